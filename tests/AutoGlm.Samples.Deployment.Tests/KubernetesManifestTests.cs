using k8s;
using k8s.Models;

namespace AutoGlm.Samples.Deployment.Tests;

/// <summary>
/// deploy/k8s parsed strictly into KubernetesClient's models (an unknown or misspelt field fails), then checked for the
/// things that make the Web API safe to run there: probes on the right paths, a grace period longer than the drain,
/// selectors that match, an autoscaler on a metric the app exports.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string s_folder = Path.Combine(AppContext.BaseDirectory, "k8s");

    private static T Load<T>(string file) => KubernetesYaml.Deserialize<T>(File.ReadAllText(Path.Combine(s_folder, file)), strict: true);

    private static V1Container WebApi(V1Deployment deployment) => Assert.Single(deployment.Spec.Template.Spec.Containers);

    private static string Env(V1Container container, string name) => Assert.Single(container.Env, e => e.Name == name).Value;

    [Fact]
    public void Kustomization_ListsEveryManifest_AndEachParsesAsItsKind()
    {
        string[] listed = [.. File.ReadAllLines(Path.Combine(s_folder, "kustomization.yaml")).Where(l => l.TrimStart().StartsWith("- ", StringComparison.Ordinal)).Select(l => l.Trim()[2..])];
        string[] files = [.. Directory.GetFiles(s_folder, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order()!];
        Assert.Equal(files, listed.Order());
        var kinds = new Dictionary<string, Type>
        {
            ["apps/v1/Deployment"] = typeof(V1Deployment),
            ["v1/Service"] = typeof(V1Service),
            ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
            ["autoscaling/v2/HorizontalPodAutoscaler"] = typeof(V2HorizontalPodAutoscaler),
            ["v1/PersistentVolumeClaim"] = typeof(V1PersistentVolumeClaim),
        };
        object[] objects = [.. files.SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(s_folder, f)), kinds, strict: true))];
        Assert.Equal(
            ["HorizontalPodAutoscaler", "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "Deployment"],
            objects.Select(o => ((IKubernetesObject)o).Kind).OrderBy(k => k == "Deployment").ThenBy(k => k));
    }

    [Fact]
    public void StrictParsing_MisspeltField_IsRejected()
    {
        string text = File.ReadAllText(Path.Combine(s_folder, "deployment.yaml")).Replace("terminationGracePeriodSeconds", "terminationGracePeriodSecond", StringComparison.Ordinal);

        Exception ex = Assert.ThrowsAny<Exception>(() => KubernetesYaml.Deserialize<V1Deployment>(text, strict: true));
        Assert.Contains("terminationGracePeriodSecond", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deployment_Probes_ReadinessOnHealth_LivenessOnAlive_OnTheListeningPort()
    {
        V1Deployment deployment = Load<V1Deployment>("deployment.yaml");
        V1Container container = WebApi(deployment);
        V1ContainerPort port = Assert.Single(container.Ports);
        Assert.Equal(port.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Env(container, "OpenAiApi__Port"));
        Assert.Equal("0.0.0.0", Env(container, "OpenAiApi__ListenAddress"));
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal(port.Name, container.ReadinessProbe.HttpGet.Port.Value);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        Assert.Equal(port.Name, container.LivenessProbe.HttpGet.Port.Value);
        // Readiness must notice SIGTERM within the shutdown delay: period × failures well under it.
        TimeSpan shutdownDelay = TimeSpan.Parse(Env(container, "OpenAiApi__ShutdownDelay"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(container.ReadinessProbe.PeriodSeconds * container.ReadinessProbe.FailureThreshold < shutdownDelay.TotalSeconds);
    }

    [Fact]
    public void Deployment_GracePeriod_CoversShutdownDelayPlusDrainTimeout_AndTheHostWaitsAsLong()
    {
        V1Deployment deployment = Load<V1Deployment>("deployment.yaml");
        V1Container container = WebApi(deployment);
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        double delay = TimeSpan.Parse(Env(container, "OpenAiApi__ShutdownDelay"), culture).TotalSeconds;
        double drain = TimeSpan.Parse(Env(container, "AutoGlm__DrainTimeout"), culture).TotalSeconds;
        double hostTimeout = double.Parse(Env(container, "DOTNET_SHUTDOWNTIMEOUTSECONDS"), culture);
        long grace = deployment.Spec.Template.Spec.TerminationGracePeriodSeconds!.Value;

        Assert.Equal((5.0, 20.0, 35.0, 45L), (delay, drain, hostTimeout, grace));
        Assert.True(hostTimeout > delay + drain, "the host must not cut the drain short");
        Assert.True(grace > hostTimeout, "Kubernetes must not SIGKILL a pod that is still draining");
    }

    [Fact]
    public void Deployment_RunsAsNonRoot_WithTheModelReadOnly_AndMeasuredMemoryRequests()
    {
        V1Deployment deployment = Load<V1Deployment>("deployment.yaml");
        V1PodSpec pod = deployment.Spec.Template.Spec;
        V1Container container = WebApi(deployment);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(1654L, pod.SecurityContext.RunAsUser);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);

        V1VolumeMount models = Assert.Single(container.VolumeMounts, m => m.Name == "models");
        Assert.True(models.ReadOnlyProperty);
        Assert.StartsWith(models.MountPath + "/", Env(container, "AutoGlm__ModelPath"), StringComparison.Ordinal);
        Assert.Equal("autoglm-models", Assert.Single(pod.Volumes, v => v.Name == "models").PersistentVolumeClaim.ClaimName);

        // Measured: peak RSS 130 MiB with the demo model (docs/deployment.md); the request must cover it, the limit leave headroom.
        decimal request = container.Resources.Requests["memory"].ToDecimal();
        decimal limit = container.Resources.Limits["memory"].ToDecimal();
        Assert.Equal(192m * 1024 * 1024, request);
        Assert.True(request >= 130m * 1024 * 1024 && limit >= 2 * request);
    }

    [Fact]
    public void ServiceBudgetAndAutoscaler_SelectTheDeploymentsPods()
    {
        V1Deployment deployment = Load<V1Deployment>("deployment.yaml");
        IDictionary<string, string> podLabels = deployment.Spec.Template.Metadata.Labels;
        Assert.All(deployment.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, podLabels[l.Key]));

        V1Service service = Load<V1Service>("service.yaml");
        Assert.All(service.Spec.Selector, l => Assert.Equal(l.Value, podLabels[l.Key]));
        Assert.Equal(WebApi(deployment).Ports[0].Name, Assert.Single(service.Spec.Ports).TargetPort.Value);

        V1PodDisruptionBudget budget = Load<V1PodDisruptionBudget>("pdb.yaml");
        Assert.All(budget.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, podLabels[l.Key]));
        Assert.Equal("1", budget.Spec.MaxUnavailable.Value);

        V2HorizontalPodAutoscaler hpa = Load<V2HorizontalPodAutoscaler>("hpa.yaml");
        Assert.Equal(("Deployment", deployment.Metadata.Name), (hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name));
        Assert.True(hpa.Spec.MinReplicas >= 2, "one replica would leave nothing for the disruption budget");
        Assert.Equal(deployment.Spec.Replicas, hpa.Spec.MinReplicas);
        V2MetricSpec metric = Assert.Single(hpa.Spec.Metrics);
        Assert.Equal(("Pods", "autoglm_queue_depth"), (metric.Type, metric.Pods.Metric.Name));
    }
}
