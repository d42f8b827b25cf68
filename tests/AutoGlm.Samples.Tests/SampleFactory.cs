using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AutoGlm.Samples.Tests;

/// <summary>
/// Starts the Web API sample in process on the tiny model, with small limits so the validation tests stay cheap.
/// <paramref name="chatClient"/> replaces the model's chat client when a test needs an answer the random model cannot
/// give (a tool call, a full queue).
/// <paramref name="settings"/> adds configuration (e.g. <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).
/// </summary>
public sealed class SampleFactory(string modelPath, string? apiKey = null, IChatClient? chatClient = null, Dictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    public const int MaxTokens = 64;
    public const int MaxMessages = 4;
    public const int MaxBodyBytes = 4096;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("AutoGlm:ModelPath", modelPath);
        builder.UseSetting("AutoGlm:MaxSequenceLength", "256");
        builder.UseSetting("OpenAiApi:ApiKey", apiKey ?? string.Empty);
        builder.UseSetting("OpenAiApi:MaxTokens", MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("OpenAiApi:MaxMessages", MaxMessages.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("OpenAiApi:MaxRequestBodyBytes", MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (KeyValuePair<string, string> setting in settings ?? [])
        {
            builder.UseSetting(setting.Key, setting.Value);
        }

        if (chatClient is not null)
        {
            builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton(chatClient)));
        }
    }
}
