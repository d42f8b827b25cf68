using AutoGlm.Cli;

namespace AutoGlm.IntegrationTests;

/// <summary>How the one top-level handler of <c>autoglm</c> turns each kind of exception into an exit code and a line.</summary>
public sealed class CliFailureTests
{
    public static TheoryData<Exception, int, string> Cases => new()
    {
        { new ModelLoadException("The model folder 'm' has no genai_config.json. Rebuild it with 'autoglm build'."), 1, "The model folder 'm' has no genai_config.json. Rebuild it with 'autoglm build'." },
        { new QueueFullException("The queue is full."), 1, "The queue is full." },
        { new ArgumentException("The prompt is empty; a request needs at least one token to continue from.", "prompt"), 1, "The prompt is empty; a request needs at least one token to continue from." },
        { new ArgumentOutOfRangeException("MaxSequenceLength", 1, "MaxSequenceLength must be at least 2; got 1."), 1, "MaxSequenceLength must be at least 2; got 1." },
        { new FileNotFoundException("Could not find file '/x/y.txt'."), 1, "Could not find file '/x/y.txt'. Check the path." },
        { new DirectoryNotFoundException("Could not find a part of the path '/x'."), 1, "Could not find a part of the path '/x'. Check the path." },
        { new UnauthorizedAccessException("Access to the path '/root/m' is denied."), 1, "Access to the path '/root/m' is denied. Check the permissions of the path." },
        { new IOException("No space left on device : '/tmp/m/model.onnx.data'"), 1, "No space left on device : '/tmp/m/model.onnx.data' Check the path, the free disk space and the permissions." },
        { new OutOfMemoryException(), 1, "out of memory. Use a smaller model or a shorter context, or free memory." },
        { new CommandLineException("--decode expects token ids, but item 3 is 'x'."), 2, "--decode expects token ids, but item 3 is 'x'." },
        { new AggregateException(new ModelLoadException("inner")), 1, "inner" },
        { new InvalidOperationException("Collection was modified."), 70, "internal error (InvalidOperationException: Collection was modified.). This is a bug in autoglm: rerun with --verbose and report the stack trace." },
        { new NullReferenceException("Object reference not set to an instance of an object."), 70, "internal error (NullReferenceException: Object reference not set to an instance of an object.). This is a bug in autoglm: rerun with --verbose and report the stack trace." },
        { new OperationCanceledException(), 70, "internal error (OperationCanceledException: The operation was canceled.). This is a bug in autoglm: rerun with --verbose and report the stack trace." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Describe_EachExceptionKind_GivesItsExitCodeAndMessage(Exception exception, int exitCode, string message)
    {
        (int actualCode, string actualMessage) = CliFailure.Describe(exception, cancelledCode: 130, cancellationRequested: false);

        Assert.Equal(exitCode, actualCode);
        Assert.Equal(message, actualMessage);
    }

    [Theory]
    [InlineData(130)]
    [InlineData(143)]
    public void Describe_CancelledBySignal_GivesTheSignalsCodeAndSaysWhatWasCleanedUp(int signalCode)
    {
        Assert.Equal((signalCode, "cancelled"), CliFailure.Describe(new TaskCanceledException(), signalCode, cancellationRequested: true));
        Assert.Equal((signalCode, "cancelled; the partial output was deleted"), CliFailure.Describe(new CommandCancelledException("the partial output was deleted"), signalCode, cancellationRequested: true));
    }

    [Fact]
    public void OneLine_MultiLineMessage_IsFoldedOntoOneLine()
    {
        Assert.Equal("No ONNX Runtime found. Paths tried, in order: - /a - /b", CliFailure.OneLine("No ONNX Runtime found. Paths tried, in order:\n  - /a\r\n  - /b\n"));
    }
}
