using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>How a command ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CommandStatus>))]
public enum CommandStatus
{
    /// <summary>The device applied it and said so.</summary>
    Acknowledged,

    /// <summary>The device answered but refused it.</summary>
    Rejected,

    /// <summary>The device is offline (its Last Will or its own offline status arrived); nothing was sent, or the wait stopped.</summary>
    DeviceOffline,

    /// <summary>No acknowledgement came within the retry budget; the device may or may not have applied it.</summary>
    NoAcknowledgement,

    /// <summary>The arguments do not fit the device; nothing was sent.</summary>
    Invalid,

    /// <summary>The broker stayed out of reach; the command never left the outbox.</summary>
    NotSent,
}

/// <summary>What became of one command, as the agent reports it to the model and the caller.</summary>
/// <param name="DeviceId">The device addressed.</param>
/// <param name="Property">The property set.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Message">One sentence for the model: what happened and what it means.</param>
/// <param name="Attempts">How many times the command was published.</param>
/// <param name="ElapsedMilliseconds">From the first publish to the outcome.</param>
/// <param name="CorrelationId">The command's id (null when nothing was sent).</param>
/// <param name="State">The device's state after the command, when it acknowledged.</param>
public sealed record CommandResult(
    string DeviceId,
    string Property,
    CommandStatus Status,
    string Message,
    int Attempts,
    long ElapsedMilliseconds,
    string? CorrelationId,
    JsonObject? State);
