namespace AutoGlm.Samples.WebApi;

/// <summary>Reads a request body up to a limit, whether or not it declares its length.</summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class RequestBody
{
    /// <exception cref="OpenAiRequestException">413 when the body is larger than <paramref name="limit"/> bytes.</exception>
    public static async Task<byte[]> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(request.ContentLength.Value, limit);
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while (true)
        {
            try
            {
                read = await request.Body.ReadAsync(chunk, cancellationToken);
            }
            catch (BadHttpRequestException ex)
            {
                // Kestrel's own body limit (or a malformed chunked encoding): answer it here, or it would surface as an
                // unhandled exception in the log although the client only sent a large or broken body.
                throw ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? TooLarge(Math.Max(buffer.Length + 1, (long)limit + 1), limit)
                    : new OpenAiRequestException(ex.StatusCode, $"The request body could not be read: {ex.Message}", "invalid_request_error", null, "invalid_body");
            }

            if (read == 0)
            {
                break;
            }

            if (buffer.Length + read > limit)
            {
                throw TooLarge(buffer.Length + read, limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static OpenAiRequestException TooLarge(long size, int limit) =>
        new(413, $"The request body has at least {size} bytes; at most {limit} are accepted (OpenAiApi:MaxRequestBodyBytes).", "invalid_request_error", null, "request_too_large");
}
