namespace AutoGlm.ModelBuilder.Random;

/// <summary>How a random tensor's values are drawn.</summary>
internal enum RandomTensorKind
{
    /// <summary>Normal, standard deviation 0.02.</summary>
    Matrix,

    /// <summary>1 + normal × 0.1.</summary>
    Norm,

    /// <summary>Normal, standard deviation 0.1.</summary>
    Bias,
}
