using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// The functions the model may call: list devices, read a device's state, set a property, run a named routine.
/// Each returns a result object the model reads; device trouble (offline, no acknowledgement, bad value) is reported
/// in it rather than thrown, so the model can tell the user.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed class DeviceTools
{
    private readonly DeviceController _controller;
    private readonly IReadOnlyList<Routine> _routines;

    public DeviceTools(DeviceController controller, IReadOnlyList<Routine>? routines = null)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        _routines = routines ?? Routine.Defaults;
        Functions =
        [
            AIFunctionFactory.Create(ListDevices, "list_devices", "Lists the devices, whether each is online, and the properties each accepts."),
            AIFunctionFactory.Create(GetDeviceState, "get_device_state", "Reads the current state of one device."),
            AIFunctionFactory.Create(SetDeviceStateAsync, "set_device_state", "Sets one property of one device and waits for the device to confirm."),
            AIFunctionFactory.Create(RunRoutineAsync, "run_routine", $"Runs a named routine: {string.Join("; ", _routines.Select(r => $"'{r.Name}' ({r.Description})"))}."),
        ];
    }

    /// <summary>The four functions, for <see cref="ChatOptions.Tools"/>.</summary>
    public IReadOnlyList<AIFunction> Functions { get; }

    /// <summary>Every device: id, kind, online, and the properties it accepts with their ranges.</summary>
    public IReadOnlyList<DeviceSummary> ListDevices() =>
        [.. _controller.Devices.Where(d => d.Description is not null).Select(d => new DeviceSummary(
            d.Id, d.Description!.Kind, d.Description.Description, d.Online, d.Online ? null : d.StatusReason,
            [.. d.Description.Capabilities.Select(CapabilityValidator.Describe)]))];

    /// <summary>One device's state and availability.</summary>
    public DeviceStateResult GetDeviceState([Description("The device id, as list_devices shows it.")] string deviceId)
    {
        DeviceView? device = _controller.Find(deviceId);
        return device is null
            ? new DeviceStateResult(deviceId, false, null, $"There is no device '{deviceId}'. Known devices: {string.Join(", ", _controller.Devices.Select(d => d.Id))}.")
            : new DeviceStateResult(deviceId, device.Online, device.State, device.Online ? null : $"{deviceId} is offline ({device.StatusReason}); the state shown is the last it reported.");
    }

    /// <summary>Sets a property; see <see cref="DeviceController.SetStateAsync"/>.</summary>
    public Task<CommandResult> SetDeviceStateAsync(
        [Description("The device id, as list_devices shows it.")] string deviceId,
        [Description("The property to set, one the device lists.")] string property,
        [Description("The new value: true/false, a whole number in the property's range, or one of its named values.")] JsonElement value,
        CancellationToken cancellationToken = default) =>
        _controller.SetStateAsync(deviceId, property, value, cancellationToken);

    /// <summary>Runs each step of a routine in order, continuing past failed steps, and reports each.</summary>
    public async Task<RoutineResult> RunRoutineAsync([Description("The routine's name.")] string name, CancellationToken cancellationToken = default)
    {
        Routine? routine = _routines.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
        if (routine is null)
        {
            return new RoutineResult(name, false, $"There is no routine '{name}'. Routines: {string.Join(", ", _routines.Select(r => r.Name))}.", []);
        }

        var steps = new List<CommandResult>(routine.Steps.Count);
        foreach (RoutineStep step in routine.Steps)
        {
            steps.Add(await _controller.SetStateAsync(step.DeviceId, step.Property, step.Value, cancellationToken).ConfigureAwait(false));
        }

        int failed = steps.Count(s => s.Status != CommandStatus.Acknowledged);
        return new RoutineResult(
            routine.Name,
            failed == 0,
            failed == 0 ? $"All {steps.Count} steps of '{routine.Name}' were acknowledged." : $"{failed} of {steps.Count} steps of '{routine.Name}' failed; see each step.",
            steps);
    }
}

/// <summary>A device as <c>list_devices</c> shows it.</summary>
public sealed record DeviceSummary(string Id, string Kind, string Description, bool Online, string? OfflineReason, IReadOnlyList<string> Properties);

/// <summary>What <c>get_device_state</c> returns.</summary>
public sealed record DeviceStateResult(string DeviceId, bool Online, JsonObject? State, string? Note);

/// <summary>What <c>run_routine</c> returns.</summary>
public sealed record RoutineResult(string Name, bool Succeeded, string Message, IReadOnlyList<CommandResult> Steps);
