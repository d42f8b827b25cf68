using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// Takes instructions in natural language and lets a model act on devices: the model's client is wrapped with
/// <c>UseFunctionInvocation</c>, so each tool call it emits runs a <see cref="DeviceTools"/> function and the result
/// goes back to the model, which then answers. Keeps the conversation.
/// </summary>
/// <remarks>Not thread-safe: one conversation, one caller at a time. The caller owns and disposes the model's client.</remarks>
public sealed class DeviceAgent
{
    /// <summary>What the model is told about its job.</summary>
    public const string Instructions =
        "You control the devices of a home through tools. Use list_devices to learn the devices and what they accept, " +
        "set_device_state to change one property, get_device_state to read one, run_routine for a named routine. " +
        "Only use values a device lists. Tell the user what each tool reported, including devices that are offline or did not confirm.";

    private readonly IChatClient _client;
    private readonly ChatOptions _options;
    private readonly List<ChatMessage> _history = [];

    /// <param name="model">The model's chat client (an <c>AutoGlmChatClient</c> in the sample).</param>
    /// <param name="tools">The device functions.</param>
    /// <param name="maxOutputTokens">The bound on each answer.</param>
    public DeviceAgent(IChatClient model, DeviceTools tools, int maxOutputTokens = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tools);
        _client = new ChatClientBuilder(model)
            .UseFunctionInvocation(configure: invoker =>
            {
                // A model that keeps calling tools must still end: a few rounds are enough for any instruction here.
                invoker.MaximumIterationsPerRequest = 5;
                invoker.IncludeDetailedErrors = true;
            })
            .Build();
        _options = new ChatOptions
        {
            Instructions = Instructions,
            Tools = [.. tools.Functions],
            ToolMode = ChatToolMode.Auto,
            MaxOutputTokens = maxOutputTokens,
        };
    }

    /// <summary>The conversation so far (user, assistant, tool calls and their results).</summary>
    public IReadOnlyList<ChatMessage> History => _history;

    /// <summary>Sends <paramref name="instruction"/>, runs the tool calls the model makes, and returns its final answer.</summary>
    public async Task<ChatResponse> AskAsync(string instruction, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instruction);
        _history.Add(new ChatMessage(ChatRole.User, instruction));
        ChatResponse response = await _client.GetResponseAsync(_history, _options.Clone(), cancellationToken).ConfigureAwait(false);
        _history.AddMessages(response);
        return response;
    }

    /// <summary>Forgets the conversation.</summary>
    public void Reset() => _history.Clear();
}
