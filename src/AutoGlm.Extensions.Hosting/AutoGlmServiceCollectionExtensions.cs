using System.Diagnostics.Metrics;
using AutoGlm;
using AutoGlm.Chat;
using AutoGlm.Extensions.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers AutoGlm models in a service collection: <c>services.AddAutoGlm(configuration.GetSection("AutoGlm"))</c>.
/// </summary>
/// <remarks>
/// Each call registers, as singletons: a <see cref="GlmModelHost"/> that owns the model (keyed for <c>AddKeyedAutoGlm</c>),
/// an <see cref="IChatClient"/> that routes every request through that host, the options (validated when the application
/// starts), and — once — the hosted service that loads models at start-up and drains them at shutdown, the options validator,
/// the <c>AutoGlm</c> meter's instruments and <see cref="TimeProvider.System"/>. Defaults are added with <c>TryAdd</c>, so
/// services registered earlier (e.g. your own <see cref="IChatClient"/> or <see cref="TimeProvider"/>) win. Calling a method
/// again for the same key adds to that registration's configuration. Not thread-safe (like every service-collection change).
/// </remarks>
public static class AutoGlmServiceCollectionExtensions
{
    /// <summary>The configuration section <see cref="AddAutoGlm(IServiceCollection)"/> reads: <c>AutoGlm</c>.</summary>
    public const string DefaultSectionName = "AutoGlm";

    /// <summary>
    /// Registers a model configured by the application's <c>"AutoGlm"</c> configuration section (e.g. in appsettings.json),
    /// read from the <see cref="IConfiguration"/> service when the options are first needed.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add a health check or a chat client factory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IAutoGlmBuilder AddAutoGlm(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddCore(services, key: null).BindConfiguration(DefaultSectionName);
        return new AutoGlmBuilder(services, key: null);
    }

    /// <summary>
    /// Registers one of several models under <paramref name="key"/>, configured by the application's <c>"AutoGlm:{key}"</c>
    /// configuration section.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="key">The model's service key and the name of its section under <c>AutoGlm</c>.</param>
    /// <returns>A builder to add a health check or a chat client factory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty.</exception>
    public static IAutoGlmBuilder AddKeyedAutoGlm(this IServiceCollection services, string key)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(key);
        AddCore(services, key).BindConfiguration($"{DefaultSectionName}:{key}");
        return new AutoGlmBuilder(services, key);
    }

    /// <summary>Registers a model configured in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; at least <see cref="AutoGlmOptions.ModelPath"/>.</param>
    /// <returns>A builder to add a health check or a chat client factory.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IAutoGlmBuilder AddAutoGlm(this IServiceCollection services, Action<AutoGlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services, key: null).Configure(configure);
        return new AutoGlmBuilder(services, key: null);
    }

    /// <summary>Registers a model configured by a configuration section, e.g. <c>configuration.GetSection("AutoGlm")</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section whose keys are <see cref="AutoGlmOptions"/>' property names.</param>
    /// <returns>A builder to add a health check or a chat client factory.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IAutoGlmBuilder AddAutoGlm(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services, key: null).Bind(configuration);
        return new AutoGlmBuilder(services, key: null);
    }

    /// <summary>Registers one of several models under <paramref name="key"/>, configured in code; resolve it with <c>[FromKeyedServices(key)] IChatClient</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="key">The model's service key.</param>
    /// <param name="configure">Sets the options; at least <see cref="AutoGlmOptions.ModelPath"/>.</param>
    /// <returns>A builder to add a health check or a chat client factory.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty.</exception>
    public static IAutoGlmBuilder AddKeyedAutoGlm(this IServiceCollection services, string key, Action<AutoGlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services, key).Configure(configure);
        return new AutoGlmBuilder(services, key);
    }

    /// <summary>Registers one of several models under <paramref name="key"/>, configured by a configuration section.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="key">The model's service key.</param>
    /// <param name="configuration">The section whose keys are <see cref="AutoGlmOptions"/>' property names.</param>
    /// <returns>A builder to add a health check or a chat client factory.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty.</exception>
    public static IAutoGlmBuilder AddKeyedAutoGlm(this IServiceCollection services, string key, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services, key).Bind(configuration);
        return new AutoGlmBuilder(services, key);
    }

    private static OptionsBuilder<AutoGlmOptions> AddCore(IServiceCollection services, string? key)
    {
        var registration = new AutoGlmRegistration(key);
        OptionsBuilder<AutoGlmOptions> options = services.AddOptions<AutoGlmOptions>(registration.OptionsName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AutoGlmOptions>, AutoGlmOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IGlmModelLoader, GlmModelLoader>();
        services.TryAddSingleton(static sp => new AutoGlmMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GlmModelHostedService>());
        if (!services.Any(d => d.ServiceType == typeof(AutoGlmRegistration) && d.ImplementationInstance is AutoGlmRegistration r && r == registration))
        {
            services.AddSingleton(registration);
        }

        if (key is null)
        {
            services.TryAddSingleton(sp => CreateHost(sp, registration));
            services.TryAddSingleton<IChatClient>(sp => CreateChatClient(sp, sp.GetRequiredService<GlmModelHost>()));
        }
        else
        {
            services.TryAddKeyedSingleton(key, (sp, _) => CreateHost(sp, registration));
            services.TryAddKeyedSingleton<IChatClient>(key, (sp, _) => CreateChatClient(sp, sp.GetRequiredKeyedService<GlmModelHost>(key)));
        }

        return options;
    }

    internal static void SetChatClientFactory(IAutoGlmBuilder builder, Func<IServiceProvider, GlmModel, IChatClient> factory)
    {
        string name = new AutoGlmRegistration(builder.Key).OptionsName;
        builder.Services.Configure<GlmChatClientFactoryOptions>(name, o => o.Create = factory);
    }

    private static GlmModelHost CreateHost(IServiceProvider services, AutoGlmRegistration registration)
    {
        AutoGlmOptions options = services.GetRequiredService<IOptionsMonitor<AutoGlmOptions>>().Get(registration.OptionsName);
        Func<IServiceProvider, GlmModel, IChatClient>? factory = services.GetService<IOptionsMonitor<GlmChatClientFactoryOptions>>()?.Get(registration.OptionsName).Create;
        AutoGlmChatClientOptions chatOptions = options.ToChatClientOptions();
        Func<GlmModel, IChatClient> create = factory is null ? model => new AutoGlmChatClient(model, chatOptions) : model => factory(services, model);
        var host = new GlmModelHost(
            registration.Key,
            options,
            services.GetRequiredService<IGlmModelLoader>(),
            create,
            services.GetRequiredService<TimeProvider>(),
            services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance);
        services.GetRequiredService<AutoGlmMetrics>().Register(host);
        return host;
    }

    private static GlmModelHostChatClient CreateChatClient(IServiceProvider services, GlmModelHost host)
        => new(host, services.GetRequiredService<AutoGlmMetrics>(), services.GetRequiredService<TimeProvider>());
}
