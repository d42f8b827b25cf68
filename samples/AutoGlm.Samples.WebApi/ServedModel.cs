using Microsoft.Extensions.Options;

namespace AutoGlm.Samples.WebApi;

/// <summary>The id under which the model is served: <c>AutoGlm:ModelId</c>, or the model folder's name (as AutoGlm reports it).</summary>
/// <remarks>Immutable.</remarks>
public sealed class ServedModel
{
    public ServedModel(IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection("AutoGlm");
        string? id = section["ModelId"];
        if (string.IsNullOrEmpty(id))
        {
            string path = section["ModelPath"] ?? string.Empty;
            id = path.Length == 0 ? "autoglm" : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        }

        Id = id;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string Id { get; }

    /// <summary>When the server started, reported as the model's <c>created</c>.</summary>
    public long Created { get; }

    /// <summary><c>GET /v1/models</c>: OpenAI's model list with the one model.</summary>
    public IResult List() => Results.Json(new
    {
        @object = "list",
        data = new[] { new { id = Id, @object = "model", created = Created, owned_by = "autoglm" } },
    });

    /// <summary><c>GET /v1/models/{id}</c>: the model object, or OpenAI's 404 <c>model_not_found</c> for another id.</summary>
    public IResult Get(string id) => string.Equals(id, Id, StringComparison.Ordinal)
        ? Results.Json(new { id = Id, @object = "model", created = Created, owned_by = "autoglm" })
        : new OpenAiRequestException(404, $"The model '{id}' does not exist; this server serves '{Id}'.", "invalid_request_error", "model", "model_not_found").ToResult();
}
