using AutoGlm.Chat;
using AutoGlm.ModelBuilder;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.DeviceAgent.Tests;

/// <summary>The agent with the real AutoGlm chat client on the builder's tiny random model (it talks nonsense).</summary>
public sealed class TinyModelAgentTests
{
    [SkippableFact]
    public async Task AskAsync_RealTinyModel_RunsTheWholePath_AndOnlyValidCommandsReachDevices()
    {
        await using MqttScope scope = await MqttScope.StartAsync();
        string folder = Directory.CreateTempSubdirectory("autoglm-device-agent-").FullName;
        try
        {
            await GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, Path.Combine(folder, "model"));
            await using GlmModel model = await GlmModel.LoadAsync(Path.Combine(folder, "model"));
            var recorder = new RecordingChatClient(new AutoGlmChatClient(model));
            var agent = new DeviceAgent(recorder, new DeviceTools(scope.Controller), maxOutputTokens: 24);

            ChatResponse response = await agent.AskAsync("Switch the living room lamp on.").WaitAsync(TimeSpan.FromSeconds(60));

            ChatMessage last = response.Messages[^1];
            Assert.Equal(ChatRole.Assistant, last.Role);
            Assert.NotNull(response.Usage);
            Assert.True(recorder.Requests >= 1);
            Assert.Equal(["list_devices", "get_device_state", "set_device_state", "run_routine"], recorder.LastTools);

            // Whatever the random weights produced, a command reached a device only if it was valid and acknowledged.
            int acknowledged = agent.History.SelectMany(m => m.Contents).OfType<FunctionResultContent>()
                .Count(r => r.Result?.ToString()?.Contains("\"Acknowledged\"", StringComparison.Ordinal) == true);
            Assert.Equal(acknowledged, scope.Fleet.Devices.Sum(d => d.AppliedCommands.Count));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public int Requests { get; private set; }

        public IReadOnlyList<string>? LastTools { get; private set; }

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Requests++;
            LastTools = options?.Tools?.Select(t => t.Name).ToList();
            return base.GetResponseAsync(messages, options, cancellationToken);
        }
    }
}
