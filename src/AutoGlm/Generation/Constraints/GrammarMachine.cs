using System.Numerics;

namespace AutoGlm.Generation.Constraints;

/// <summary>
/// The byte-level pushdown automaton over a <see cref="Grammar"/>: advances a stack of <see cref="GrammarFrame"/>s
/// by one byte, tells whether the output so far is a complete value, and how many bytes at least are still
/// needed to complete it. Works on caller-owned spans so the mask search can snapshot states without allocating.
/// </summary>
/// <remarks>
/// Whitespace is accepted only between the tokens of objects and arrays, at most <see cref="MaxWhitespaceRun"/>
/// bytes in a row, and never around the whole value. Numbers have bounded digit counts. A failed
/// <see cref="Advance"/> leaves the stack in an unspecified state: callers advance a copy. Stateless and thread-safe.
/// </remarks>
internal static class GrammarMachine
{
    /// <summary>The deepest stack a state may hold.</summary>
    public const int Capacity = 48;

    /// <summary>Free-form values (any JSON) open no object or array at this depth or deeper.</summary>
    public const int AnyDepthLimit = 16;

    public const int MaxWhitespaceRun = 16;
    public const int MaxIntegerDigits = 12;
    public const int MaxFractionDigits = 12;
    public const int MaxExponentDigits = 2;

    private enum Step : byte
    {
        Rejected,
        Accepted,

        // The frame is complete and does not take the byte: pop it and offer the byte to the frame below.
        Pass,
    }

    /// <summary>Starts a state for the grammar's root.</summary>
    public static int Start(Grammar grammar, Span<GrammarFrame> frames)
    {
        frames[0] = new GrammarFrame { Kind = FrameKind.Slot, Node = grammar.Root };
        return 1;
    }

    /// <summary>Advances the state by one byte; false when the byte cannot come next.</summary>
    public static bool Advance(Grammar grammar, Span<GrammarFrame> frames, ref int depth, byte b)
    {
        while (depth > 0)
        {
            switch (StepTop(grammar, frames, ref depth, b))
            {
                case Step.Accepted:
                    return true;
                case Step.Rejected:
                    return false;
                default:
                    depth--;
                    break;
            }
        }

        return false;
    }

    /// <summary>Whether the bytes so far form a complete value (the end-of-sequence token may come).</summary>
    public static bool IsComplete(Grammar grammar, ReadOnlySpan<GrammarFrame> frames, int depth)
    {
        if (depth == 0)
        {
            return false;
        }

        for (int i = depth - 1; i >= 0; i--)
        {
            if (!IsCompletable(grammar, frames[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The fewest bytes that complete the value from this state.</summary>
    public static int MinCompletion(Grammar grammar, ReadOnlySpan<GrammarFrame> frames, int depth) =>
        depth == 0 ? 0 : frames[depth - 1].CostBelow + LocalCost(grammar, frames[depth - 1]);

    /// <summary>The fewest bytes that finish this frame, not counting the frames below it.</summary>
    public static int LocalCost(Grammar grammar, in GrammarFrame frame)
    {
        GrammarNode node = grammar[frame.Node];
        switch (frame.Kind)
        {
            case FrameKind.Slot:
                return frame.Phase == 0 ? node.MinBytes : 0;
            case FrameKind.Object:
                return ObjectCost(grammar, node, frame);
            case FrameKind.AnyObject:
                return frame.Phase switch { 0 => 1, 2 => 3, 3 => 2, 4 => 1, _ => 5 };
            case FrameKind.Array:
            {
                int item = grammar[node.Item].MinBytes;
                return frame.Phase switch
                {
                    0 => node.MinCount == 0 ? 1 : (node.MinCount * item) + node.MinCount,
                    4 => (Math.Max(0, node.MinCount - frame.A) * (1 + item)) + 1,
                    _ => item + (Math.Max(0, node.MinCount - frame.A - 1) * (1 + item)) + 1,
                };
            }

            case FrameKind.String:
                return frame.Phase == 0 ? Math.Max(0, node.MinCount - frame.A) + 1 : 2;
            case FrameKind.Number:
                return frame.Phase is 2 or 4 or 7 ? 0 : 1;
            default:
            {
                int best = int.MaxValue;
                for (int k = frame.A; k < frame.B; k++)
                {
                    best = Math.Min(best, node.EntryMinBytes[k] - frame.C);
                }

                return best;
            }
        }
    }

    private static int ObjectCost(Grammar grammar, GrammarNode node, in GrammarFrame frame)
    {
        int[] required = node.RequiredCost;
        switch (frame.Phase)
        {
            case 0:
                return required[frame.A] == 0 ? 1 : required[frame.A];
            case 2:
                return 1 + grammar[node.Values[frame.A]].MinBytes + required[frame.A + 1] + 1;
            case 3:
                return grammar[node.Values[frame.A]].MinBytes + required[frame.A + 1] + 1;
            case 4:
                return required[frame.A] + 1;
            default:
            {
                // Reading a key (phase 1) or after a comma (phase 5): the cheapest property that may come next.
                int best = int.MaxValue;
                int position = frame.Phase == 1 ? frame.B : 0;
                for (int c = frame.A; c < node.CandidateEnd[frame.A]; c++)
                {
                    if (frame.Phase == 1 && (frame.Mask & (1UL << c)) == 0)
                    {
                        continue;
                    }

                    best = Math.Min(best, node.Keys[c].Length - position + 1 + grammar[node.Values[c]].MinBytes + required[c + 1] + 1);
                }

                return best;
            }
        }
    }

    private static bool IsCompletable(Grammar grammar, in GrammarFrame frame) => frame.Kind switch
    {
        FrameKind.Slot => frame.Phase == 1,
        FrameKind.Number => frame.Phase is 2 or 4 or 7,
        FrameKind.Literals => grammar[frame.Node].Entries[frame.A].Length == frame.C,
        _ => false,
    };

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r';

    private static Step Whitespace(ref GrammarFrame frame)
    {
        if (frame.C >= MaxWhitespaceRun)
        {
            return Step.Rejected;
        }

        frame.C++;
        return Step.Accepted;
    }

    private static Step StepTop(Grammar grammar, Span<GrammarFrame> frames, ref int depth, byte b)
    {
        ref GrammarFrame top = ref frames[depth - 1];
        GrammarNode node = grammar[top.Node];
        switch (top.Kind)
        {
            case FrameKind.Slot:
                if (top.Phase == 1)
                {
                    return Step.Pass;
                }

                top.Phase = 1;
                return Accept(Begin(grammar, frames, ref depth, top.Node, b));

            case FrameKind.Object:
                return StepObject(grammar, frames, ref depth, node, b);

            case FrameKind.AnyObject:
                return StepAnyObject(grammar, frames, ref depth, b);

            case FrameKind.Array:
                return StepArray(grammar, frames, ref depth, node, b);

            case FrameKind.String:
                return StepString(ref top, ref depth, node, b);

            case FrameKind.Number:
                return StepNumber(ref top, node.Kind == GrammarNodeKind.Integer, b);

            default:
                return StepLiterals(ref top, node, b);
        }
    }

    private static Step Accept(bool accepted) => accepted ? Step.Accepted : Step.Rejected;

    private static Step StepObject(Grammar grammar, Span<GrammarFrame> frames, ref int depth, GrammarNode node, byte b)
    {
        ref GrammarFrame top = ref frames[depth - 1];
        int count = node.Keys.Length;
        switch (top.Phase)
        {
            case 0:
            case 5:
                if (IsWhitespace(b))
                {
                    return Whitespace(ref top);
                }

                if (b == (byte)'"')
                {
                    int end = node.CandidateEnd[top.A];
                    if (end <= top.A)
                    {
                        return Step.Rejected;
                    }

                    ulong mask = 0;
                    for (int c = top.A; c < end; c++)
                    {
                        mask |= 1UL << c;
                    }

                    top.Mask = mask;
                    top.B = 1;
                    top.C = 0;
                    top.Phase = 1;
                    return Step.Accepted;
                }

                if (b == (byte)'}' && top.Phase == 0 && node.RequiredCost[top.A] == 0)
                {
                    depth--;
                    return Step.Accepted;
                }

                return Step.Rejected;

            case 1:
            {
                ulong matching = 0;
                int complete = -1;
                ulong rest = top.Mask;
                while (rest != 0)
                {
                    int c = BitOperations.TrailingZeroCount(rest);
                    rest &= rest - 1;
                    byte[] key = node.Keys[c];
                    if (key.Length > top.B && key[top.B] == b)
                    {
                        matching |= 1UL << c;
                        if (key.Length == top.B + 1)
                        {
                            complete = c;
                        }
                    }
                }

                if (matching == 0)
                {
                    return Step.Rejected;
                }

                top.B++;
                top.Mask = matching;
                if (complete >= 0)
                {
                    top.Phase = 2;
                    top.A = complete;
                    top.C = 0;
                }

                return Step.Accepted;
            }

            case 2:
                if (IsWhitespace(b))
                {
                    return Whitespace(ref top);
                }

                if (b != (byte)':')
                {
                    return Step.Rejected;
                }

                top.Phase = 3;
                top.C = 0;
                return Step.Accepted;

            case 3:
            {
                if (IsWhitespace(b))
                {
                    return Whitespace(ref top);
                }

                int property = top.A;
                top.Phase = 4;
                top.A = property + 1;
                top.C = 0;
                return Accept(Begin(grammar, frames, ref depth, node.Values[property], b));
            }

            default:
                if (IsWhitespace(b))
                {
                    return Whitespace(ref top);
                }

                if (b == (byte)',' && top.A < count && node.CandidateEnd[top.A] > top.A)
                {
                    top.Phase = 5;
                    top.C = 0;
                    return Step.Accepted;
                }

                if (b == (byte)'}' && node.RequiredCost[top.A] == 0)
                {
                    depth--;
                    return Step.Accepted;
                }

                return Step.Rejected;
        }
    }

    private static Step StepAnyObject(Grammar grammar, Span<GrammarFrame> frames, ref int depth, byte b)
    {
        ref GrammarFrame top = ref frames[depth - 1];
        if (IsWhitespace(b) && top.Phase != 1)
        {
            return Whitespace(ref top);
        }

        switch (top.Phase)
        {
            case 0:
            case 5:
                if (b == (byte)'"')
                {
                    top.Phase = 2;
                    top.C = 0;
                    return Accept(Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.String, Node = Grammar.AnyString }));
                }

                if (b == (byte)'}' && top.Phase == 0)
                {
                    depth--;
                    return Step.Accepted;
                }

                return Step.Rejected;
            case 2:
                if (b != (byte)':')
                {
                    return Step.Rejected;
                }

                top.Phase = 3;
                top.C = 0;
                return Step.Accepted;
            case 3:
                top.Phase = 4;
                top.C = 0;
                return Accept(Begin(grammar, frames, ref depth, Grammar.AnyValue, b));
            default:
                if (b == (byte)',')
                {
                    top.Phase = 5;
                    top.C = 0;
                    return Step.Accepted;
                }

                if (b == (byte)'}')
                {
                    depth--;
                    return Step.Accepted;
                }

                return Step.Rejected;
        }
    }

    private static Step StepArray(Grammar grammar, Span<GrammarFrame> frames, ref int depth, GrammarNode node, byte b)
    {
        ref GrammarFrame top = ref frames[depth - 1];
        if (IsWhitespace(b))
        {
            return Whitespace(ref top);
        }

        switch (top.Phase)
        {
            case 0:
                if (b == (byte)']')
                {
                    if (node.MinCount != 0)
                    {
                        return Step.Rejected;
                    }

                    depth--;
                    return Step.Accepted;
                }

                if (node.MaxCount == 0)
                {
                    return Step.Rejected;
                }

                top.Phase = 4;
                top.A = 1;
                top.C = 0;
                return Accept(Begin(grammar, frames, ref depth, node.Item, b));
            case 4:
                if (b == (byte)',' && (node.MaxCount < 0 || top.A < node.MaxCount))
                {
                    top.Phase = 5;
                    top.C = 0;
                    return Step.Accepted;
                }

                if (b == (byte)']' && top.A >= node.MinCount)
                {
                    depth--;
                    return Step.Accepted;
                }

                return Step.Rejected;
            default:
                top.Phase = 4;
                top.A++;
                top.C = 0;
                return Accept(Begin(grammar, frames, ref depth, node.Item, b));
        }
    }

    private static Step StepString(ref GrammarFrame top, ref int depth, GrammarNode node, byte b)
    {
        if (top.Phase == 1)
        {
            if (b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t')
            {
                top.Phase = 0;
                top.A++;
                return Step.Accepted;
            }

            return Step.Rejected;
        }

        if (b == (byte)'"')
        {
            if (top.A < node.MinCount)
            {
                return Step.Rejected;
            }

            depth--;
            return Step.Accepted;
        }

        if (b < 0x20)
        {
            return Step.Rejected;
        }

        if (node.AsciiOnly)
        {
            if (b > 0x7E || b == (byte)'\\' || (node.MaxCount >= 0 && top.A >= node.MaxCount))
            {
                return Step.Rejected;
            }

            top.A++;
            return Step.Accepted;
        }

        if (b == (byte)'\\')
        {
            top.Phase = 1;
            return Step.Accepted;
        }

        // Unbounded strings do not count their length; keep the counter from overflowing on endless strings.
        top.A = Math.Min(top.A + 1, int.MaxValue / 2);
        return Step.Accepted;
    }

    private static Step StepNumber(ref GrammarFrame top, bool integer, byte b)
    {
        bool digit = b is >= (byte)'0' and <= (byte)'9';
        switch (top.Phase)
        {
            case 0:
                if (b == (byte)'-')
                {
                    top.Phase = 1;
                    return Step.Accepted;
                }

                goto case 1;
            case 1:
                if (!digit)
                {
                    return Step.Rejected;
                }

                top.Phase = 2;
                top.A = 1;
                top.B = b == (byte)'0' ? 1 : 0;
                return Step.Accepted;
            case 2:
                if (digit)
                {
                    if (top.B == 1 || top.A >= MaxIntegerDigits)
                    {
                        return Step.Rejected;
                    }

                    top.A++;
                    return Step.Accepted;
                }

                if (!integer && b == (byte)'.')
                {
                    top.Phase = 3;
                    return Step.Accepted;
                }

                if (!integer && b is (byte)'e' or (byte)'E')
                {
                    top.Phase = 5;
                    return Step.Accepted;
                }

                return Step.Pass;
            case 3:
                if (!digit)
                {
                    return Step.Rejected;
                }

                top.Phase = 4;
                top.A = 1;
                return Step.Accepted;
            case 4:
                if (digit)
                {
                    if (top.A >= MaxFractionDigits)
                    {
                        return Step.Rejected;
                    }

                    top.A++;
                    return Step.Accepted;
                }

                if (b is (byte)'e' or (byte)'E')
                {
                    top.Phase = 5;
                    return Step.Accepted;
                }

                return Step.Pass;
            case 5:
                if (b is (byte)'+' or (byte)'-')
                {
                    top.Phase = 6;
                    return Step.Accepted;
                }

                goto case 6;
            case 6:
                if (!digit)
                {
                    return Step.Rejected;
                }

                top.Phase = 7;
                top.A = 1;
                return Step.Accepted;
            default:
                if (digit)
                {
                    if (top.A >= MaxExponentDigits)
                    {
                        return Step.Rejected;
                    }

                    top.A++;
                    return Step.Accepted;
                }

                return Step.Pass;
        }
    }

    private static Step StepLiterals(ref GrammarFrame top, GrammarNode node, byte b)
    {
        byte[][] entries = node.Entries;
        int position = top.C;
        int lo = top.A;
        int hi = top.B;
        int first = -1;
        int last = -1;
        for (int k = lo; k < hi; k++)
        {
            byte[] entry = entries[k];
            if (entry.Length > position && entry[position] == b)
            {
                if (first < 0)
                {
                    first = k;
                }

                last = k;
            }
            else if (first >= 0)
            {
                break;
            }
        }

        if (first < 0)
        {
            return entries[lo].Length == position ? Step.Pass : Step.Rejected;
        }

        top.A = first;
        top.B = last + 1;
        top.C = position + 1;
        if (entries[first].Length == top.C && node.Continuations[first] >= 0)
        {
            // A tool name (with its newline) is complete: the frame becomes the place for its arguments.
            top.Kind = FrameKind.Slot;
            top.Node = node.Continuations[first];
            top.Phase = 0;
            top.A = top.B = top.C = 0;
        }

        return Step.Accepted;
    }

    /// <summary>Starts a value of <paramref name="index"/> with its first byte, pushing the frames it needs.</summary>
    private static bool Begin(Grammar grammar, Span<GrammarFrame> frames, ref int depth, int index, byte b)
    {
        GrammarNode node = grammar[index];
        switch (node.Kind)
        {
            case GrammarNodeKind.Any:
                switch (b)
                {
                    case (byte)'{':
                        return depth < AnyDepthLimit && Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.AnyObject, Node = Grammar.AnyObject });
                    case (byte)'[':
                        return depth < AnyDepthLimit && Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.Array, Node = Grammar.AnyArray });
                    case (byte)'"':
                        return Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.String, Node = Grammar.AnyString });
                    case (byte)'t':
                        return Begin(grammar, frames, ref depth, Grammar.True, b);
                    case (byte)'f':
                        return Begin(grammar, frames, ref depth, Grammar.False, b);
                    case (byte)'n':
                        return Begin(grammar, frames, ref depth, Grammar.Null, b);
                    default:
                        return (b == (byte)'-' || b is >= (byte)'0' and <= (byte)'9') && Begin(grammar, frames, ref depth, Grammar.AnyNumber, b);
                }

            case GrammarNodeKind.Object:
                return b == (byte)'{' && Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.Object, Node = index });
            case GrammarNodeKind.AnyObject:
                return b == (byte)'{' && Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.AnyObject, Node = index });
            case GrammarNodeKind.Array:
                return b == (byte)'[' && Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.Array, Node = index });
            case GrammarNodeKind.String:
                return b == (byte)'"' && Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.String, Node = index });
            case GrammarNodeKind.Number:
            case GrammarNodeKind.Integer:
                return Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.Number, Node = index })
                    && StepNumber(ref frames[depth - 1], node.Kind == GrammarNodeKind.Integer, b) == Step.Accepted;
            case GrammarNodeKind.Literals:
                return Push(grammar, frames, ref depth, new GrammarFrame { Kind = FrameKind.Literals, Node = index, A = 0, B = node.Entries.Length })
                    && StepLiterals(ref frames[depth - 1], node, b) == Step.Accepted;
            default:
            {
                int alternative = node.ByFirstByte[b];
                return alternative >= 0 && Begin(grammar, frames, ref depth, alternative, b);
            }
        }
    }

    private static bool Push(Grammar grammar, Span<GrammarFrame> frames, ref int depth, GrammarFrame frame)
    {
        if (depth >= frames.Length)
        {
            return false;
        }

        frame.CostBelow = depth == 0 ? 0 : frames[depth - 1].CostBelow + LocalCost(grammar, frames[depth - 1]);
        frames[depth++] = frame;
        return true;
    }
}
