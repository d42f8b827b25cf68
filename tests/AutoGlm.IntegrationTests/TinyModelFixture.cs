using AutoGlm.ModelBuilder;

namespace AutoGlm.IntegrationTests;

/// <summary>A tiny random GLM model (the builder's <c>tiny</c> preset), built once per test run into a temporary folder.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public TinyModelFixture()
    {
        Root = Directory.CreateTempSubdirectory("autoglm-integration-").FullName;
        ModelPath = Path.Combine(Root, "model");
        GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, ModelPath).GetAwaiter().GetResult();
    }

    public string Root { get; }

    public string ModelPath { get; }

    public void Dispose()
    {
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
