namespace AutoGlm.Samples.WebApi;

/// <summary>
/// An error answered in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, with its HTTP status.
/// Thrown while reading a request; the endpoint turns it into the response.
/// </summary>
/// <remarks>Immutable.</remarks>
public sealed class OpenAiRequestException : Exception
{
    public OpenAiRequestException(int statusCode, string message, string type, string? param = null, string? code = null)
        : base(message)
    {
        StatusCode = statusCode;
        Type = type;
        Param = param;
        Code = code;
    }

    public OpenAiRequestException()
        : this(500, "Internal error.", "server_error")
    {
    }

    public OpenAiRequestException(string message)
        : this(400, message, "invalid_request_error")
    {
    }

    public OpenAiRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = 400;
        Type = "invalid_request_error";
    }

    public int StatusCode { get; }

    public string Type { get; }

    public string? Param { get; }

    public string? Code { get; }

    public static OpenAiRequestException Invalid(string message, string? param, string? code = null) => new(400, message, "invalid_request_error", param, code);

    public static OpenAiRequestException QueueFull(string message) => new(429, message, "rate_limit_error", null, "queue_full");

    /// <summary>The HTTP answer: the status, <c>Retry-After: 1</c> on 429, and the error JSON.</summary>
    public IResult ToResult() => new OpenAiErrorResult(this);

    /// <summary>The error as the JSON object written into a stream that has already started.</summary>
    public object ToBody() => new { error = new { message = Message, type = Type, param = Param, code = Code } };
}
