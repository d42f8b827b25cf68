namespace AutoGlm.Samples.Chat;

/// <summary>
/// Routes Ctrl+C: while an answer is being written it cancels that answer only; otherwise it cancels
/// <c>quit</c> and lets the process end.
/// </summary>
/// <remarks>Thread-safe: the handler runs on its own thread and swaps the target atomically.</remarks>
internal sealed class ConsoleCancelKey
{
    private readonly CancellationTokenSource _quit;
    private CancellationTokenSource? _answer;

    public ConsoleCancelKey(CancellationTokenSource quit)
    {
        _quit = quit;
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    public CancellationTokenSource BeginAnswer()
    {
        var answer = new CancellationTokenSource();
        Volatile.Write(ref _answer, answer);
        return answer;
    }

    public void EndAnswer(CancellationTokenSource answer) => Interlocked.CompareExchange(ref _answer, null, answer);

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        CancellationTokenSource? answer = Volatile.Read(ref _answer);
        if (answer is not null)
        {
            // Keep the process alive; only the answer in progress stops.
            e.Cancel = true;
            try
            {
                answer.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The answer ended between the read and the cancel.
            }

            return;
        }

        _quit.Cancel();
    }
}
