using System.Diagnostics;
using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary>Prints progress (tensors, bytes, rate) on stderr at most four times a second.</summary>
internal sealed class ProgressPrinter : IProgress<ModelBuildProgress>
{
    private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
    private readonly object _gate = new();
    private readonly string _verb;
    private ModelBuildProgress _last;
    private bool _printed;
    private bool _pending;

    /// <param name="verb">What happens to the bytes ("read", "written").</param>
    public ProgressPrinter(string verb)
    {
        _verb = verb;
    }

    public void Report(ModelBuildProgress value)
    {
        lock (_gate)
        {
            _last = value;
            _pending = true;
            if (_sinceLast.ElapsedMilliseconds >= 250)
            {
                _sinceLast.Restart();
                Print(value);
                _pending = false;
            }
        }
    }

    public void Finish()
    {
        lock (_gate)
        {
            if (_pending)
            {
                Print(_last);
                _pending = false;
            }

            EndLine();
        }
    }

    public void EndLine()
    {
        if (_printed && !Console.IsErrorRedirected)
        {
            Console.Error.WriteLine();
        }

        _printed = false;
    }

    private void Print(ModelBuildProgress p)
    {
        const double Mib = 1024.0 * 1024;
        string line = $"tensors {p.TensorsDone}/{p.TensorsTotal}  {_verb} {p.BytesRead / Mib:F0}/{p.BytesTotal / Mib:F0} MiB  {p.BytesPerSecond / Mib:F0} MiB/s  {p.Elapsed.TotalSeconds:F1} s";
        if (Console.IsErrorRedirected)
        {
            Console.Error.WriteLine(line);
        }
        else
        {
            Console.Error.Write("\r" + line.PadRight(90));
            _printed = true;
        }
    }
}
