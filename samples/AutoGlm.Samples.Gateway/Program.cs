// AutoGlm gateway: a YARP reverse proxy in front of Web API replicas, with active health checks on /health.
//
//   dotnet run --project samples/AutoGlm.Samples.Gateway -c Release -- --Gateway:Replicas:0=http://127.0.0.1:5081/ --Gateway:Replicas:1=http://127.0.0.1:5082/
//
// A replica leaves the rotation when /health fails (it is loading, draining after SIGTERM, or gone) and comes back
// when it passes; a request whose connection is refused goes to another replica; responses carry X-AutoGlm-Replica.
using System.Globalization;
using System.Net;
using AutoGlm.Samples.Gateway;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
GatewayOptions options = builder.Configuration.GetSection("Gateway").Get<GatewayOptions>() ?? new GatewayOptions();
if (options.Replicas.Count == 0)
{
    Console.Error.WriteLine("AutoGlm.Samples.Gateway: no replicas; pass --Gateway:Replicas:0=http://127.0.0.1:5081/ (and :1, :2, ...).");
    return 2;
}

var cluster = new ClusterConfig
{
    ClusterId = "webapi",
    LoadBalancingPolicy = "LeastRequests",
    HealthCheck = new HealthCheckConfig
    {
        Active = new ActiveHealthCheckConfig
        {
            Enabled = true,
            Interval = options.HealthCheckInterval,
            Timeout = options.HealthCheckTimeout,
            Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
            Path = "/health",
        },
        Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate, ReactivationPeriod = TimeSpan.FromSeconds(10) },
        AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
    },
    // One failed probe is enough: a draining replica must leave the rotation before it stops listening.
    Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "1" },
    Destinations = options.Replicas.Select((address, i) => (address, i))
        .ToDictionary(r => "replica-" + r.i.ToString(CultureInfo.InvariantCulture), r => new DestinationConfig { Address = r.address }),
};
var route = new RouteConfig { RouteId = "all", ClusterId = "webapi", Match = new RouteMatch { Path = "{**catch-all}" } };

builder.Services.AddReverseProxy()
    .LoadFromMemory([route], [cluster])
    .AddTransforms(transforms => transforms.AddResponseTransform(context =>
    {
        if (context.HttpContext.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
        {
            context.HttpContext.Response.Headers[ConnectFailureRetry.ReplicaHeader] = destination.DestinationId;
        }

        return ValueTask.CompletedTask;
    }));
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));

WebApplication app = builder.Build();
app.MapReverseProxy(pipeline =>
{
    pipeline.Use((context, next) => ConnectFailureRetry.InvokeAsync(context, () => next(), options.ConnectRetries));
    pipeline.UseSessionAffinity();
    pipeline.UseLoadBalancing();
    pipeline.UsePassiveHealthChecks();
});
app.Run();
return 0;
