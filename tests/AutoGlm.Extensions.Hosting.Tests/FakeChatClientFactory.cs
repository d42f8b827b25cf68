using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AutoGlm.Generation;
using Microsoft.Extensions.AI;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>
/// Makes <see cref="FakeChatClient"/>s over loaded models and controls them: requests can be held at a gate, can run a real
/// generation on their model, and every client records what it served.
/// </summary>
public sealed class FakeChatClientFactory
{
    private readonly ConcurrentQueue<FakeChatClient> _clients = new();
    private readonly SemaphoreSlim _started = new(0);
    private TaskCompletionSource _gate = NewOpenGate();

    public IReadOnlyList<FakeChatClient> Clients => [.. _clients];

    /// <summary>Whether each request runs a short greedy generation on its model (so a disposed model fails it).</summary>
    public bool Generate { get; set; }

    /// <summary>How many tokens a generating request produces.</summary>
    public int MaxNewTokens { get; set; } = 3;

    /// <summary>Runs between a request's text and its final (usage) update, e.g. to move a manual clock.</summary>
    public Action? BetweenUpdates { get; set; }

    public IChatClient Create(GlmModel model)
    {
        var client = new FakeChatClient(this, model);
        _clients.Enqueue(client);
        return client;
    }

    /// <summary>Makes new and waiting requests wait until <see cref="OpenGate"/>.</summary>
    public void CloseGate() => Volatile.Write(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void OpenGate() => Volatile.Read(ref _gate).TrySetResult();

    /// <summary>Waits until <paramref name="count"/> more requests have reached the client.</summary>
    public async Task WaitForStartedAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Assert.True(await _started.WaitAsync(TimeSpan.FromSeconds(30)), $"Only {i} of {count} requests started.");
        }
    }

    internal Task Gate => Volatile.Read(ref _gate).Task;

    internal void OnStarted() => _started.Release();

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}

/// <summary>A chat client over one model that answers "hello" with fixed usage, after the factory's gate opens.</summary>
public sealed class FakeChatClient : IChatClient
{
    public const int InputTokens = 7;
    public const int OutputTokens = 5;
    public const string ModelId = "fake-model";
    public const string ResponseId = "fake-response";

    private readonly FakeChatClientFactory _factory;
    private int _served;
    private int _cancelled;

    public FakeChatClient(FakeChatClientFactory factory, GlmModel model)
    {
        _factory = factory;
        Model = model;
    }

    public GlmModel Model { get; }

    public int Served => Volatile.Read(ref _served);

    public int Cancelled => Volatile.Read(ref _cancelled);

    public bool IsDisposed { get; private set; }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _factory.OnStarted();
        try
        {
            await _factory.Gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelled);
            throw;
        }

        string text = "hello";
        if (_factory.Generate)
        {
            GenerationResult result = await Model.GenerateAsync("hi", new GenerationOptions { Temperature = 0f, MaxNewTokens = _factory.MaxNewTokens, IgnoreEos = true }, cancellationToken);
            text = $"{result.Usage.CompletionTokens} tokens";
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, text) { ResponseId = ResponseId, ModelId = ModelId };
        Interlocked.Increment(ref _served);
        _factory.BetweenUpdates?.Invoke();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = InputTokens, OutputTokenCount = OutputTokens })])
        {
            FinishReason = ChatFinishReason.Stop,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(FakeChatClient) ? this : null;

    public void Dispose() => IsDisposed = true;
}
