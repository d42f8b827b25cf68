using System.Text;
using System.Text.Json;
using AutoGlm.Generation;
using AutoGlm.Generation.Constraints;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// Constrained decoding's cost per token at GLM-4's vocabulary size (151 552 ids): computing the mask of allowed
/// tokens for a nested JSON schema and applying it to a logits row. The vocabulary is synthetic but shaped like a
/// byte-level BPE one (every byte, English words with and without a leading space, CJK runs, digits, punctuation
/// and JSON pieces, whitespace runs). "answer" replays a whole schema-valid answer of <see cref="AnswerTokens"/>
/// tokens (structure, keys, strings, numbers, enums) and reports the mean per token; the others hold one state.
/// Baseline: the greedy sampler on the same row (the work every token already does).
/// </summary>
[MemoryDiagnoser]
public class ConstraintMaskBenchmarks
{
    public const int Vocabulary = 151_552;
    public const int AnswerTokens = 64;

    private const string NestedSchema = """
        {
          "$defs": { "point": { "type": "object", "properties": { "x": { "type": "integer" }, "y": { "type": "number" } }, "required": ["x", "y"], "additionalProperties": false } },
          "type": "object",
          "properties": {
            "name": { "type": "string" },
            "code": { "type": "string", "minLength": 2, "maxLength": 12 },
            "color": { "enum": ["red", "green", "blue"] },
            "tags": { "type": "array", "items": { "type": "string" }, "maxItems": 4 },
            "where": { "$ref": "#/$defs/point" },
            "note": { "type": ["string", "null"] }
          },
          "required": ["name", "code", "color", "tags", "where"],
          "additionalProperties": false
        }
        """;

    private static readonly int[] s_end = [Vocabulary - 1];

    private ConstraintVocabulary? _vocabulary;
    private ConstraintMasker? _masker;
    private Sampler? _sampler;
    private SamplingState? _greedy;
    private GrammarState? _state;
    private GrammarState? _structure;
    private GrammarState? _freeString;
    private GrammarState? _boundedString;
    private int[] _answer = [];
    private float[] _pristine = [];
    private float[] _logits = [];

    [GlobalSetup]
    public void Setup()
    {
        _vocabulary = new ConstraintVocabulary(SyntheticBpeVocabulary(Vocabulary));
        _masker = new ConstraintMasker(_vocabulary, Vocabulary);
        _sampler = new Sampler(Vocabulary);
        _greedy = new SamplingState(GenerationOptions.Greedy, Vocabulary, [1], 256, 1);
        var random = new Random(1);
        _pristine = [.. Enumerable.Range(0, Vocabulary).Select(_ => (float)((random.NextDouble() * 20) - 10))];
        _logits = new float[Vocabulary];
        Grammar grammar = GenerationConstraint.FromJsonSchema(JsonDocument.Parse(NestedSchema).RootElement).Grammar;

        // A schema-valid answer sampled once with random logits, replayed by "answer".
        _state = new GrammarState(grammar);
        using var sampling = new SamplingState(new GenerationOptions { Temperature = 1f }, Vocabulary, [1], AnswerTokens, 7);
        var answer = new List<int>();
        while (answer.Count < AnswerTokens)
        {
            _pristine.CopyTo(_logits, 0);
            for (int i = 0; i < 64; i++)
            {
                _logits[random.Next(Vocabulary)] += 15f;
            }

            int token = _masker.Sample(_sampler, _logits, sampling, _state, AnswerTokens - answer.Count, s_end, []);
            answer.Add(token);
            if (token == s_end[0])
            {
                break;
            }
        }

        _answer = [.. answer];
        _structure = At(grammar, "{\"name\":\"ab\","u8);
        _freeString = At(grammar, "{\"name\":\"ab"u8);
        _boundedString = At(grammar, "{\"name\":\"ab\",\"code\":\"x"u8);
        Console.WriteLine("// constrained answer replayed: " + DescribeAnswer());
    }

    [GlobalCleanup]
    public void Cleanup() => _greedy?.Dispose();

    [Benchmark(Baseline = true, Description = "greedy sampler (no constraint)")]
    public int Greedy()
    {
        _pristine.CopyTo(_logits, 0);
        return _sampler!.Sample(_logits, _greedy!);
    }

    [Benchmark(Description = "mask: between object members")]
    public int Structure() => Mask(_structure!);

    [Benchmark(Description = "mask: inside a free string")]
    public int FreeString() => Mask(_freeString!);

    [Benchmark(Description = "mask: inside a maxLength string")]
    public int BoundedString() => Mask(_boundedString!);

    [Benchmark(Description = "mask + advance, whole answer (per token)", OperationsPerInvoke = AnswerTokens)]
    public int Answer()
    {
        // The answer is replayed from its start until AnswerTokens masks are done (it may be shorter than that).
        GrammarState state = _state!;
        state.Reset();
        int allowed = 0;
        for (int i = 0, at = 0; i < AnswerTokens; i++, at++)
        {
            if (at == _answer.Length)
            {
                state.Reset();
                at = 0;
            }

            allowed += _masker!.Compute(state, _answer.Length - at, s_end, []);
            _masker.Apply(_logits);
            state.TryAdvance(_vocabulary!.Bytes(_answer[at]));
        }

        return allowed;
    }

    /// <summary>Prints the sampled answer and its length, to put next to the report.</summary>
    public string DescribeAnswer() => $"{_answer.Length} tokens: {Encoding.UTF8.GetString([.. _answer.SelectMany(t => _vocabulary!.Bytes(t).ToArray())])}";

    private int Mask(GrammarState state)
    {
        int allowed = _masker!.Compute(state, 200, s_end, []);
        _masker.Apply(_logits);
        return allowed;
    }

    private static GrammarState At(Grammar grammar, ReadOnlySpan<byte> prefix)
    {
        var state = new GrammarState(grammar);
        if (!state.TryAdvance(prefix))
        {
            throw new InvalidOperationException("The benchmark's prefix does not fit its schema.");
        }

        return state;
    }

    /// <summary>A deterministic byte-level vocabulary of <paramref name="size"/> ids; the last id is the end token (no bytes).</summary>
    internal static byte[]?[] SyntheticBpeVocabulary(int size)
    {
        var random = new Random(151552);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tokens = new List<byte[]?>(size);
        for (int b = 0; b < 256; b++)
        {
            tokens.Add([(byte)b]);
        }

        void Add(string text)
        {
            if (tokens.Count < size - 1 && text.Length > 1 && seen.Add(text))
            {
                tokens.Add(Encoding.UTF8.GetBytes(text));
            }
        }

        foreach (string piece in new[] { "\"", "\":", "\": ", "\",", "\", \"", "{\"", "\"}", "\"]", "},", "}]", "]}", "[\"", "\n", "\n  ", "\n    ", "\n\n", "  ", "    ", "true", "false", "null", "\\n", "\\\"" })
        {
            Add(piece);
        }

        for (int n = 0; n < 1000; n++)
        {
            Add(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        const string Letters = "etaoinshrdlcumwfgypbvkjxqz";
        const string Punctuation = ".,;:!?()[]{}<>-_=+*/\\'\"`~@#$%^&|";
        while (tokens.Count < size - 1)
        {
            int kind = random.Next(10);
            if (kind < 6)
            {
                // English-like words, half with a leading space, some capitalised.
                int length = 2 + random.Next(9);
                var word = new StringBuilder(kind < 3 ? " " : string.Empty);
                for (int i = 0; i < length; i++)
                {
                    char c = Letters[(int)(Math.Pow(random.NextDouble(), 2) * Letters.Length)];
                    word.Append(i == 0 && random.Next(4) == 0 ? char.ToUpperInvariant(c) : c);
                }

                Add(word.ToString());
            }
            else if (kind < 9)
            {
                // CJK runs of one to three characters (three UTF-8 bytes each).
                int length = 1 + random.Next(3);
                var run = new StringBuilder();
                for (int i = 0; i < length; i++)
                {
                    run.Append((char)(0x4E00 + random.Next(0x5000)));
                }

                Add(run.ToString());
            }
            else
            {
                int length = 2 + random.Next(3);
                var run = new StringBuilder(random.Next(2) == 0 ? " " : string.Empty);
                for (int i = 0; i < length; i++)
                {
                    run.Append(Punctuation[random.Next(Punctuation.Length)]);
                }

                Add(run.ToString());
            }
        }

        tokens.Add(null);
        return [.. tokens];
    }
}
