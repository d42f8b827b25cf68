// AutoGlm Web API sample: OpenAI-compatible chat completions over a local GLM model, on 127.0.0.1 only.
//
//   dotnet run --project samples/AutoGlm.Samples.WebApi -c Release -- --AutoGlm:ModelPath=/path/to/model
//
// Endpoints: POST /v1/chat/completions (JSON or stream: true), GET /v1/models, GET /health, GET /metrics.
using AutoGlm.Samples.WebApi;
using Microsoft.Extensions.Options;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
SampleApp.Configure(builder);
WebApplication app = builder.Build();
SampleApp.Map(app);
try
{
    app.Run();
    return 0;
}
catch (OptionsValidationException ex)
{
    // A bad AutoGlm or OpenAiApi setting (e.g. no ModelPath): one line saying which, instead of a stack trace.
    Console.Error.WriteLine($"AutoGlm.Samples.WebApi: {ex.Message}");
    return 2;
}

/// <summary>The sample's entry point (public so in-process tests can start it).</summary>
public partial class Program;
