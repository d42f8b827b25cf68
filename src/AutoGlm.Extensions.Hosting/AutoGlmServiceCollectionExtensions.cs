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
/// Each key's first call registers, as singletons: a <see cref="GlmModelHost"/> that owns the model (keyed for <c>AddKeyedAutoGlm</c>),
/// an <see cref="IChatClient"/> built from the registration's <see cref="IAutoGlmBuilder.ChatClientBuilder"/> (keyed likewise), the
/// options (validated when the application starts), and — once — the hosted service that loads models at start-up and drains them at
/// shutdown, the options validator and <see cref="TimeProvider.System"/>. The chat client is added the way
/// <c>services.AddChatClient(...)</c> adds one: when several <see cref="IChatClient"/>s are registered without a key, the last one is
/// resolved (all are in <c>GetServices&lt;IChatClient&gt;()</c>); use <c>AddKeyedAutoGlm</c> to keep AutoGlm beside another provider.
/// Other defaults are added with <c>TryAdd</c>, so services registered earlier (e.g. your own <see cref="TimeProvider"/>) win.
/// Metrics go to the <c>AutoGlm</c> meter of the <see cref="IMeterFactory"/> service (the generic host registers one), when there is one.
/// Calling a method again for the same key adds to that registration's configuration and returns the same pipeline.
/// Not thread-safe (like every service-collection change).
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
        return AddCore(services, key: null, static o => o.BindConfiguration(DefaultSectionName));
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
        return AddCore(services, key, o => o.BindConfiguration($"{DefaultSectionName}:{key}"));
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
        return AddCore(services, key: null, o => o.Configure(configure));
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
        return AddCore(services, key: null, o => o.Bind(configuration));
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
        return AddCore(services, key, o => o.Configure(configure));
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
        return AddCore(services, key, o => o.Bind(configuration));
    }

    private static AutoGlmBuilder AddCore(IServiceCollection services, string? key, Action<OptionsBuilder<AutoGlmOptions>> configure)
    {
        configure(services.AddOptions<AutoGlmOptions>(AutoGlmRegistration.OptionsNameOf(key)).ValidateOnStart());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AutoGlmOptions>, AutoGlmOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IGlmModelLoader, GlmModelLoader>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GlmModelHostedService>());
        AutoGlmRegistration? registration = services
            .Select(d => d.ServiceType == typeof(AutoGlmRegistration) ? d.ImplementationInstance as AutoGlmRegistration : null)
            .FirstOrDefault(r => r is not null && r.Key == key);
        if (registration is null)
        {
            // First call for this key: the host, and the IChatClient built from the registration's pipeline. Like
            // services.AddChatClient, the chat client is added (not TryAdd-ed): the last IChatClient registered is the one resolved.
            registration = new AutoGlmRegistration(key);
            services.AddSingleton(registration);
            ChatClientBuilder pipeline = registration.ChatClientBuilder;
            if (key is null)
            {
                services.TryAddSingleton(sp => CreateHost(sp, registration));
                services.AddSingleton<IChatClient>(pipeline.Build);
            }
            else
            {
                services.TryAddKeyedSingleton(key, (sp, _) => CreateHost(sp, registration));
                services.AddKeyedSingleton<IChatClient>(key, (sp, _) => pipeline.Build(sp));
            }
        }

        return new AutoGlmBuilder(services, key, registration.ChatClientBuilder);
    }

    internal static void SetChatClientFactory(IAutoGlmBuilder builder, Func<IServiceProvider, GlmModel, IChatClient> factory)
    {
        string name = AutoGlmRegistration.OptionsNameOf(builder.Key);
        builder.Services.Configure<GlmChatClientFactoryOptions>(name, o => o.Create = factory);
    }

    private static GlmModelHost CreateHost(IServiceProvider services, AutoGlmRegistration registration)
    {
        AutoGlmOptions options = services.GetRequiredService<IOptionsMonitor<AutoGlmOptions>>().Get(registration.OptionsName);
        Func<IServiceProvider, GlmModel, IChatClient>? factory = services.GetService<IOptionsMonitor<GlmChatClientFactoryOptions>>()?.Get(registration.OptionsName).Create;
        AutoGlmChatClientOptions chatOptions = options.ToChatClientOptions();
        Func<GlmModel, IChatClient> create = factory is null ? model => new AutoGlmChatClient(model, chatOptions) : model => factory(services, model);
        return new GlmModelHost(
            registration.Key,
            options,
            services.GetRequiredService<IGlmModelLoader>(),
            create,
            services.GetRequiredService<TimeProvider>(),
            services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            services.GetService<IMeterFactory>());
    }
}
