namespace AutoGlm.Samples.DeviceAgent;

/// <summary>A failure of the device agent's MQTT side that a caller can act on (broker unreachable, offline buffer full).</summary>
public sealed class DeviceAgentException : AutoGlmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and how to fix it.</param>
    public DeviceAgentException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public DeviceAgentException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
