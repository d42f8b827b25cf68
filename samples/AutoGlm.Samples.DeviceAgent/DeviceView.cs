using System.Text.Json.Nodes;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>What the agent knows of one device from its retained messages.</summary>
/// <param name="Id">The device id.</param>
/// <param name="Description">Its description and capabilities (null until they arrive).</param>
/// <param name="State">Its last published state.</param>
/// <param name="Online">Whether its status says online (false after its Last Will).</param>
/// <param name="StatusReason">Why it is offline, as its status message says.</param>
/// <param name="StatusObservedAt">When the agent saw the status change.</param>
public sealed record DeviceView(string Id, DeviceDescription? Description, JsonObject? State, bool Online, string? StatusReason, DateTimeOffset? StatusObservedAt);
