using System.Text.Json;

namespace AutoGlm.Samples.DeviceAgent.Tests;

public sealed class ExponentialBackoffTests
{
    public static TheoryData<int, double> Delays => new()
    {
        { 0, 1 }, { 1, 2 }, { 2, 4 }, { 3, 8 }, { 4, 16 }, { 5, 30 }, { 6, 30 }, { 100, 30 },
    };

    [Theory]
    [MemberData(nameof(Delays))]
    public void DelayFor_WithoutJitter_DoublesFromOneSecondAndCapsAtThirty(int retry, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), new ExponentialBackoff().DelayFor(retry, 0.5));
    }

    [Fact]
    public void DelayFor_Jitter_SpreadsByTheFractionButNeverAboveTheCap()
    {
        var backoff = new ExponentialBackoff { Jitter = 0.2 };
        Assert.Equal(TimeSpan.FromSeconds(0.8), backoff.DelayFor(0, 0));
        Assert.Equal(1.2, backoff.DelayFor(0, 0.999999999).TotalSeconds, 6);
        Assert.Equal(TimeSpan.FromSeconds(24), backoff.DelayFor(10, 0));
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.DelayFor(10, 0.99));
    }

    [Fact]
    public void Validate_CapBelowBase_NamesBothValues()
    {
        var backoff = new ExponentialBackoff { BaseDelay = TimeSpan.FromSeconds(2), MaxDelay = TimeSpan.FromSeconds(1) };
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => backoff.Validate("Retry"));
        Assert.StartsWith("Retry: BaseDelay must be positive and MaxDelay at least BaseDelay; got 00:00:02 and 00:00:01.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceController_ZeroAttempts_IsRejectedAtConstruction()
    {
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceController(new DeviceControllerOptions { MaxAttempts = 0 }));
        Assert.StartsWith("MaxAttempts must be at least 1; got 0.", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class CapabilityValidatorTests
{
    private static readonly DeviceDescription s_lamp = new("lamp", "lamp", "A lamp",
        [new DeviceCapability("power", CapabilityKind.Boolean), new DeviceCapability("brightness", CapabilityKind.Number, 0, 100), new DeviceCapability("scene", CapabilityKind.Enum, Values: ["read", "relax"])]);

    [Theory]
    [InlineData("power", "true", "true")]
    [InlineData("power", "\"False\"", "false")]
    [InlineData("brightness", "0", "0")]
    [InlineData("brightness", "\"100\"", "100")]
    [InlineData("scene", "\"RELAX\"", "\"relax\"")]
    public void Validate_AcceptedValue_IsCanonical(string property, string json, string expected)
    {
        using JsonDocument value = JsonDocument.Parse(json);
        Assert.Equal(expected, CapabilityValidator.Validate(s_lamp, property, value.RootElement).ToJsonString());
    }

    [Theory]
    [InlineData("power", "1", "Property 'power' of device 'lamp' takes true or false; got 1.")]
    [InlineData("brightness", "101", "Property 'brightness' of device 'lamp' takes a whole number from 0 to 100; got 101.")]
    [InlineData("brightness", "50.5", "Property 'brightness' of device 'lamp' takes a whole number from 0 to 100; got 50.5.")]
    [InlineData("scene", "\"party\"", "Property 'scene' of device 'lamp' takes one of read, relax; got \"party\".")]
    [InlineData("volume", "3", "Device 'lamp' has no property 'volume'; it has: power (true/false), brightness (integer 0..100), scene (one of read|relax).")]
    public void Validate_RefusedValue_SaysWhatIsAccepted(string property, string json, string message)
    {
        using JsonDocument value = JsonDocument.Parse(json);
        ArgumentException ex = Assert.Throws<ArgumentException>(() => CapabilityValidator.Validate(s_lamp, property, value.RootElement));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }
}
