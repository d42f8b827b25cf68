using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using AutoGlm.ModelBuilder;
using AutoGlm.Models;
using AutoGlm.Tokenization;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <c>--bandwidth [OUT.md] [ROUNDS]</c>: how close batch-1 int4 decoding comes to the machine's memory-bandwidth ceiling.
/// </summary>
/// <remarks>
/// A decode step of one sequence reads every weight once (the embedding table aside: one row), plus the KV cache up
/// to the current position. The ceiling is the machine's read bandwidth ÷ those bytes. Read bandwidth is measured here,
/// with two threads summing a 1 GiB native buffer (32× the L3), best of the rounds. Bytes per token come from the
/// model's own initializers (the external-data lengths in <c>model.onnx</c>), not from the folder size. Decoding runs
/// AutoGlm and ORT GenAI 0.18 in turns on the same folder, 2 intra-op threads each, median of the rounds.
/// </remarks>
internal static class BandwidthCeiling
{
    private const int Threads = GenAiComparison.Threads; // ORT GenAI is opened by GenAiComparison.OpenGenAi with the same count
    private const int PromptTokens = 64;
    private const int NewTokens = 64;
    private const string EmbeddingName = "model.embed_tokens.weight";

    public static int Report(string? outputPath, int rounds, IReadOnlyList<string> presets)
    {
        var report = new StringBuilder();
        report.AppendLine("# int4 batch-1 decode against the memory-bandwidth ceiling");
        report.AppendLine();
        report.AppendLine(Invariant($"CPU, {Environment.ProcessorCount} logical cores, {Threads} intra-op threads, ONNX Runtime 1.31.0, .NET {Environment.Version}. Load average (1/5/15 min) at start: **{LoadAverage()}**."));
        (double oneThread, double twoThreads) = MeasureReadBandwidth(rounds);
        report.AppendLine();
        report.AppendLine(Invariant($"Measured read bandwidth (1 GiB native buffer, Vector sums, best of {rounds}): **{twoThreads:F1} GB/s with 2 threads**, {oneThread:F1} GB/s with 1."));
        report.AppendLine();
        report.AppendLine(Invariant($"One stream, {PromptTokens}-token prompt + {NewTokens} new tokens, greedy, EOS ignored; contenders in turns, median of {rounds} rounds after a cold round. Bytes per token = all initializers except the embedding table + one embedding row + the KV cache read at the mean decode position ({PromptTokens + (NewTokens / 2)})."));
        report.AppendLine();
        report.AppendLine("| Model | Weights read / token | KV read / token | Ceiling tok/s | AutoGlm tok/s | % of ceiling | ORT GenAI tok/s | % of ceiling | AutoGlm × ORT GenAI |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((string preset, int level) in presets.SelectMany(p => new[] { (p, 0), (p, 4) }))
        {
            string folder = BenchmarkModels.Ensure(preset, ModelPrecision.Int4, level);
            GlmModelInfo info = ModelFolder.Read(folder);
            (long weights, long embedding) = InitializerBytes(Path.Combine(folder, ModelFolder.ModelFile));
            long weightsPerToken = weights - embedding + (embedding / info.VocabularySize);
            long kvPerToken = info.KvBytesPerToken * (PromptTokens + (NewTokens / 2));
            double bytesPerToken = weightsPerToken + kvPerToken;
            double ceiling = twoThreads * 1e9 / bytesPerToken;
            (double ours, double theirs) = Decode(folder, info, rounds, preset);
            report.AppendLine(Invariant($"| `{preset}` int4, accuracy_level {level} | {weightsPerToken / 1e6:F1} MB | {kvPerToken / 1e6:F2} MB | {ceiling:F0} | {ours:F1} | {100 * ours / ceiling:F0} % | {theirs:F1} | {100 * theirs / ceiling:F0} % | {ours / theirs:F2} |"));
            Console.Error.WriteLine(Invariant($"{preset}: ceiling {ceiling:F0} tok/s, AutoGlm {ours:F1}, ORT GenAI {theirs:F1} (load {LoadAverage()})"));
        }

        report.AppendLine();
        report.AppendLine("accuracy_level 0 (AutoGlm's default) computes in fp32; 4 quantises activations to int8 (VNNI here) and stays within 5e-2 relative of fp32-compute logits on the builder's tests, not within the 1e-3 bound level 0 meets (tests/AutoGlm.ModelBuilder.Tests/ParityTests.cs).");
        report.AppendLine();
        report.AppendLine(Invariant($"Load average at end: **{LoadAverage()}**."));
        Console.Out.WriteLine(report.ToString());
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, report.ToString());
        }

        return 0;
    }

    private static (double Ours, double Theirs) Decode(string folder, GlmModelInfo info, int rounds, string preset)
    {
        int[] prompt = BenchmarkPrompts.Create(info.VocabularySize, PromptTokens, 0);
        using GlmModel ours = GlmModel.Load(folder, new GlmModelOptions { IntraOpThreads = Threads, MaxBatchSize = 1, MaxSequenceLength = PromptTokens + NewTokens + 1 });
        using GenAi.Model theirs = GenAiComparison.OpenGenAi(folder);
        var oursRuns = new List<double>();
        var theirsRuns = new List<double>();
        for (int round = 0; round <= rounds; round++)
        {
            for (int turn = 0; turn < 2; turn++)
            {
                bool runOurs = (turn + round) % 2 == 0;
                double tokensPerSecond = (runOurs ? GenAiComparison.StreamAutoGlm(ours, prompt, NewTokens) : GenAiComparison.StreamGenAi(theirs, prompt, NewTokens)).DecodeTokensPerSecond;
                if (round > 0)
                {
                    (runOurs ? oursRuns : theirsRuns).Add(tokensPerSecond);
                }
            }

            Console.Error.WriteLine(Invariant($"{preset} round {round} done (load {LoadAverage()})"));
        }

        return (GenAiComparison.Median(oursRuns, v => v), GenAiComparison.Median(theirsRuns, v => v));
    }

    /// <summary>Best-of-<paramref name="rounds"/> read bandwidth in GB/s with one and with two threads.</summary>
    private static unsafe (double OneThread, double TwoThreads) MeasureReadBandwidth(int rounds)
    {
        const long size = 1L << 30;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            const int chunk = 1 << 26;
            for (long offset = 0; offset < size; offset += chunk)
            {
                new Span<byte>(buffer + offset, chunk).Fill(1); // touch every page before timing
            }

            double one = 0;
            double two = 0;
            for (int round = 0; round < Math.Max(rounds, 3); round++)
            {
                one = Math.Max(one, Read(buffer, size, 1));
                two = Math.Max(two, Read(buffer, size, 2));
            }

            return (one, two);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static unsafe double Read(byte* buffer, long size, int threads)
    {
        long share = size / threads;
        var sums = new ulong[threads];
        var workers = new Thread[threads];
        using var start = new Barrier(threads + 1);
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                sums[index] = Sum(buffer + (index * share), share);
            });
            workers[t].Start();
        }

        start.SignalAndWait();
        long started = Stopwatch.GetTimestamp();
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        GC.KeepAlive(sums);
        return size / seconds / 1e9;
    }

    private static unsafe ulong Sum(byte* start, long length)
    {
        var accumulator = Vector<ulong>.Zero;
        long count = length / Vector<byte>.Count;
        var vectors = (Vector<ulong>*)start;
        for (long i = 0; i < count; i += 4)
        {
            accumulator += vectors[i] ^ vectors[i + 1] ^ vectors[i + 2] ^ vectors[i + 3];
        }

        return Vector.Sum(accumulator);
    }

    /// <summary>
    /// Sums the external-data lengths of <paramref name="modelPath"/>'s initializers (ModelProto.graph = 7,
    /// GraphProto.initializer = 5, TensorProto.name = 8, raw_data = 9, external_data = 13 of key 1 / value 2), and the
    /// embedding's apart, with the protobuf reader the SentencePiece tokenizer uses.
    /// </summary>
    private static (long All, long Embedding) InitializerBytes(string modelPath)
    {
        byte[] model = File.ReadAllBytes(modelPath);
        long all = 0;
        long embedding = 0;
        var file = new ProtobufReader(model, modelPath);
        while (file.TryReadTag(out int field, out int wire))
        {
            if (field != 7 || wire != 2)
            {
                file.Skip(wire);
                continue;
            }

            var graph = new ProtobufReader(file.ReadBytes(out int graphOffset), modelPath, graphOffset);
            while (graph.TryReadTag(out int graphField, out int graphWire))
            {
                if (graphField != 5 || graphWire != 2)
                {
                    graph.Skip(graphWire);
                    continue;
                }

                (string name, long bytes) = TensorBytes(graph.ReadBytes(out int tensorOffset), modelPath, tensorOffset);
                all += bytes;
                embedding += name == EmbeddingName ? bytes : 0;
            }
        }

        return (all, embedding);
    }

    private static (string Name, long Bytes) TensorBytes(ReadOnlySpan<byte> tensorProto, string modelPath, int offset)
    {
        var tensor = new ProtobufReader(tensorProto, modelPath, offset);
        string name = "";
        long bytes = 0;
        while (tensor.TryReadTag(out int field, out int wire))
        {
            if (wire != 2 || field is not (8 or 9 or 13))
            {
                tensor.Skip(wire);
                continue;
            }

            ReadOnlySpan<byte> value = tensor.ReadBytes(out int valueOffset);
            if (field == 8)
            {
                name = Encoding.UTF8.GetString(value);
            }
            else if (field == 9)
            {
                bytes += value.Length;
            }
            else
            {
                // external_data: a StringStringEntryProto; only "length" counts.
                var entry = new ProtobufReader(value, modelPath, valueOffset);
                string key = "";
                string text = "";
                while (entry.TryReadTag(out int entryField, out int entryWire))
                {
                    if (entryWire != 2 || entryField is not (1 or 2))
                    {
                        entry.Skip(entryWire);
                        continue;
                    }

                    string read = Encoding.UTF8.GetString(entry.ReadBytes(out _));
                    (key, text) = entryField == 1 ? (read, text) : (key, read);
                }

                bytes += key == "length" ? long.Parse(text, CultureInfo.InvariantCulture) : 0;
            }
        }

        return (name, bytes);
    }

    private static string LoadAverage() => GenAiComparison.LoadAverage();

    private static string Invariant(FormattableString text) => GenAiComparison.Invariant(text);
}
