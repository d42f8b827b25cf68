using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace AutoGlm.Tokenization;

/// <summary>
/// Checks that JSON from a file is text: valid UTF-8 and no string holding a lone surrogate escape (<c>\ud800</c>).
/// System.Text.Json decodes strings lazily, so without this check such a file fails much later with an
/// <see cref="InvalidOperationException"/> that names no file.
/// </summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class JsonText
{
    /// <summary>The offset of the first byte that is not valid UTF-8, or -1 when all are.</summary>
    public static int FindInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return -1;
        }

        char[] scratch = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            int offset = 0;
            while (true)
            {
                OperationStatus status = Utf8.ToUtf16(bytes[offset..], scratch, out int read, out _, replaceInvalidSequences: false);
                offset += read;
                if (status != OperationStatus.DestinationTooSmall)
                {
                    return offset;
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(scratch);
        }
    }

    /// <summary>The JSON path of the first property name or string that does not decode to valid UTF-16, with the reason; null when all do.</summary>
    public static (string Path, string Problem)? FindInvalidString(JsonElement root)
    {
        // An explicit stack: the document's depth is bounded by the reader, but no recursion is needed here at all.
        var pending = new Stack<(JsonElement Element, string Path)>();
        pending.Push((root, "$"));
        while (pending.TryPop(out (JsonElement Element, string Path) item))
        {
            try
            {
                switch (item.Element.ValueKind)
                {
                    case JsonValueKind.Object:
                        foreach (JsonProperty property in item.Element.EnumerateObject())
                        {
                            pending.Push((property.Value, $"{item.Path}.{property.Name}"));
                        }

                        break;
                    case JsonValueKind.Array:
                        int index = 0;
                        foreach (JsonElement element in item.Element.EnumerateArray())
                        {
                            pending.Push((element, $"{item.Path}[{index++}]"));
                        }

                        break;
                    case JsonValueKind.String:
                        _ = item.Element.GetString();
                        break;
                }
            }
            catch (InvalidOperationException e)
            {
                return (item.Path, e.Message);
            }
        }

        return null;
    }
}
