using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AutoGlm.Samples.WebApi;

/// <summary>
/// When <see cref="OpenAiApiOptions.ApiKey"/> is set, lets a request through only with <c>Authorization: Bearer {key}</c>;
/// otherwise answers 401 in OpenAI's error shape. Keys are compared in constant time.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed class ApiKeyFilter : IEndpointFilter
{
    private readonly byte[]? _key;

    public ApiKeyFilter(IOptions<OpenAiApiOptions> options)
    {
        string? key = options.Value.ApiKey;
        _key = string.IsNullOrEmpty(key) ? null : Encoding.UTF8.GetBytes(key);
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_key is null)
        {
            return await next(context);
        }

        string header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Reject(context.HttpContext, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", "missing_api_key");
        }

        byte[] given = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());
        if (!CryptographicOperations.FixedTimeEquals(given, _key))
        {
            return Reject(context.HttpContext, "Incorrect API key provided.", "invalid_api_key");
        }

        return await next(context);
    }

    private static IResult Reject(HttpContext http, string message, string code)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return new OpenAiRequestException(401, message, "invalid_request_error", null, code).ToResult();
    }
}
