namespace AutoGlm.Extensions.Hosting;

/// <summary>Where a <see cref="GlmModelHost"/> is in its life.</summary>
public enum GlmModelHostState
{
    /// <summary>No model is loaded: loading is lazy and no request came yet, or the model was unloaded after its keep-alive period. The next request loads it.</summary>
    NotLoaded,

    /// <summary>The model is being loaded and warmed; requests wait for it.</summary>
    Loading,

    /// <summary>A model is loaded and serving.</summary>
    Ready,

    /// <summary>The last load failed (see <see cref="GlmModelHostStatus.LoadError"/>); the next request tries again.</summary>
    Failed,

    /// <summary>The host is stopping: requests in flight may finish, new ones are rejected.</summary>
    Stopping,

    /// <summary>The host has stopped and released its models; every request is rejected.</summary>
    Stopped,
}
