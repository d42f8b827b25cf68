using System.Net.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace AutoGlm.Samples.Gateway;

/// <summary>
/// Sends a request to another replica when the connection to the chosen one could not even be opened (refused: the
/// replica stopped listening or crashed, and the health check has not noticed yet). Such a request never reached the
/// replica, so sending it elsewhere cannot duplicate it. Anything else (a reset after the request was sent, a timeout)
/// is not retried: a completion may already be running there. Also tags every response with the replica that served it.
/// </summary>
/// <remarks>Stateless; one instance per pipeline.</remarks>
internal static class ConnectFailureRetry
{
    public const string ReplicaHeader = "X-AutoGlm-Replica";
    public const string ErrorHeader = "X-AutoGlm-Gateway-Error";

    public static async Task InvokeAsync(HttpContext context, Func<Task> next, int retries)
    {
        IReverseProxyFeature proxy = context.GetReverseProxyFeature();
        IReadOnlyList<DestinationState> candidates = proxy.AvailableDestinations;
        context.Request.EnableBuffering();
        for (int attempt = 0; ; attempt++)
        {
            await next();
            IForwarderErrorFeature? error = context.Features.Get<IForwarderErrorFeature>();
            string? replica = proxy.ProxiedDestination?.DestinationId;
            if (error is null || context.Response.HasStarted)
            {
                return;
            }

            bool neverSent = error.Error == ForwarderError.Request && IsConnectFailure(error.Exception);
            candidates = [.. candidates.Where(d => d.DestinationId != replica)];
            if (!neverSent || attempt >= retries || candidates.Count == 0)
            {
                context.Response.Headers[ReplicaHeader] = replica;
                context.Response.Headers[ErrorHeader] = error.Error.ToString();
                return;
            }

            // Start clean for the next replica: the failed attempt wrote only a status code.
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Request.Body.Position = 0;
            proxy.AvailableDestinations = candidates;
        }
    }

    private static bool IsConnectFailure(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
        || exception?.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };
}
