using AutoGlm.ModelBuilder;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>The builder's tiny random model, built once per test run, plus a copy of it standing for a second model version.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public TinyModelFixture()
    {
        Root = Directory.CreateTempSubdirectory("autoglm-hosting-").FullName;
        ModelPath = Path.Combine(Root, "model-v1");
        SecondModelPath = Path.Combine(Root, "model-v2");
        GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, ModelPath).GetAwaiter().GetResult();
        Directory.CreateDirectory(SecondModelPath);
        foreach (string file in Directory.GetFiles(ModelPath))
        {
            File.Copy(file, Path.Combine(SecondModelPath, Path.GetFileName(file)));
        }
    }

    public string Root { get; }

    public string ModelPath { get; }

    public string SecondModelPath { get; }

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
