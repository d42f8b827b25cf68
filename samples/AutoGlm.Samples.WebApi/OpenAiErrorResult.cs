namespace AutoGlm.Samples.WebApi;

/// <summary>Writes an <see cref="OpenAiRequestException"/> as the HTTP response (a 429 also says when to retry).</summary>
/// <remarks>Immutable.</remarks>
public sealed class OpenAiErrorResult(OpenAiRequestException error) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = error.StatusCode;
        if (error.StatusCode == StatusCodes.Status429TooManyRequests)
        {
            // The queue drains as requests finish; a second is long enough for a tiny model and short for a real one.
            httpContext.Response.Headers.RetryAfter = "1";
        }

        return httpContext.Response.WriteAsJsonAsync(error.ToBody(), httpContext.RequestAborted);
    }
}
