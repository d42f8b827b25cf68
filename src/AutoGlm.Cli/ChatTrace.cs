namespace AutoGlm.Cli;

/// <summary>
/// A reproducible chat workload for <c>autoglm bench --trace</c>: conversations arrive as a Poisson process;
/// each has 1 to <c>MaxTurns</c> turns (uniform); every turn resends the whole history (a shared system prompt,
/// then each earlier user message and answer) plus a new user message; between turns the user thinks for an
/// exponentially distributed time. User messages are log-normal in length (median 24 tokens, σ 0.8, clamped to
/// 4–256), answers log-normal (median 48 tokens, σ 0.6, clamped to 8–192, generated to that length, greedy).
/// The same seed and source tokens give the same trace.
/// </summary>
/// <remarks>Immutable; safe to share.</remarks>
internal sealed class ChatTrace
{
    private ChatTrace(int[] systemPrompt, IReadOnlyList<TraceConversation> conversations)
    {
        SystemPrompt = systemPrompt;
        Conversations = conversations;
    }

    /// <summary>Gets the system prompt every conversation starts with.</summary>
    public int[] SystemPrompt { get; }

    /// <summary>Gets the conversations in order of arrival.</summary>
    public IReadOnlyList<TraceConversation> Conversations { get; }

    /// <summary>Draws a trace from <paramref name="settings"/>, cutting token runs out of <paramref name="source"/>.</summary>
    public static ChatTrace Create(TraceSettings settings, IReadOnlyList<int> source)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(source);
        var random = new Random(settings.Seed);
        int[] system = Cut(source, random, settings.SystemPromptTokens);
        var conversations = new List<TraceConversation>(settings.Conversations);
        double at = 0;
        for (int c = 0; c < settings.Conversations; c++)
        {
            at += Exponential(random, 1.0 / settings.ConversationsPerSecond);
            int turnCount = 1 + random.Next(settings.MaxTurns);
            var turns = new TraceTurn[turnCount];
            for (int t = 0; t < turnCount; t++)
            {
                int user = LogNormal(random, 24, 0.8, 4, 256);
                int answer = LogNormal(random, 48, 0.6, 8, 192);
                turns[t] = new TraceTurn(Cut(source, random, user), answer, Exponential(random, settings.ThinkSeconds));
            }

            conversations.Add(new TraceConversation(at, turns));
        }

        return new ChatTrace(system, conversations);
    }

    private static int[] Cut(IReadOnlyList<int> source, Random random, int length)
    {
        int[] tokens = new int[length];
        int start = random.Next(source.Count);
        for (int i = 0; i < length; i++)
        {
            tokens[i] = source[(start + i) % source.Count];
        }

        return tokens;
    }

    private static double Exponential(Random random, double mean) => -mean * Math.Log(1 - random.NextDouble());

    private static int LogNormal(Random random, double median, double sigma, int min, int max)
    {
        // Box–Muller.
        double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Math.Clamp((int)Math.Round(median * Math.Exp(sigma * normal)), min, max);
    }
}

/// <summary>What shapes a <see cref="ChatTrace"/>.</summary>
/// <param name="ConversationsPerSecond">Mean arrival rate of new conversations (Poisson).</param>
/// <param name="Conversations">How many conversations arrive.</param>
/// <param name="MaxTurns">The most turns one conversation has.</param>
/// <param name="ThinkSeconds">Mean pause between an answer and the next user message.</param>
/// <param name="SystemPromptTokens">Length of the system prompt every conversation shares.</param>
/// <param name="Seed">The seed of every random draw.</param>
internal sealed record TraceSettings(double ConversationsPerSecond, int Conversations, int MaxTurns, double ThinkSeconds, int SystemPromptTokens, int Seed);

/// <summary>One conversation of a trace.</summary>
/// <param name="StartSeconds">When its first message arrives, from the start of the run.</param>
/// <param name="Turns">Its turns in order.</param>
internal sealed record TraceConversation(double StartSeconds, IReadOnlyList<TraceTurn> Turns);

/// <summary>One turn: the new user message, the answer length, and the pause before the next turn.</summary>
internal sealed record TraceTurn(int[] UserTokens, int AnswerTokens, double ThinkSeconds);
