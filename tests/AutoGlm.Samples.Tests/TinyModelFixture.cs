using AutoGlm.ModelBuilder;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// The model builder's tiny random model, built once per test run into a temporary folder named <c>model</c>,
/// and the Web API sample started in process over it (the factory most tests share).
/// </summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly Lazy<SampleFactory> _sample;

    public TinyModelFixture()
    {
        Root = Directory.CreateTempSubdirectory("autoglm-samples-").FullName;
        ModelPath = Path.Combine(Root, "model");
        GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, ModelPath).GetAwaiter().GetResult();
        _sample = new Lazy<SampleFactory>(() => new SampleFactory(ModelPath));
    }

    public string Root { get; }

    public string ModelPath { get; }

    /// <summary>The sample on this model with default settings (no API key).</summary>
    public SampleFactory Sample => _sample.Value;

    public void Dispose()
    {
        if (_sample.IsValueCreated)
        {
            _sample.Value.Dispose();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TinyModelCollection : ICollectionFixture<TinyModelFixture>
{
    public const string Name = "tiny model";
}
