using System.Globalization;
using System.Text;

namespace AutoGlm.Chat.Jinja;

/// <summary>The global functions of the Hugging Face chat-template environment: <c>raise_exception</c>, <c>range</c>, <c>namespace</c>, <c>dict</c>, <c>strftime_now</c>.</summary>
/// <remarks>Stateless; safe to use from any thread.</remarks>
internal static class TemplateGlobals
{
    public static void Register(TemplateScope scope, TimeProvider timeProvider)
    {
        scope.Set("raise_exception", new TemplateCallable((arguments, _) =>
            throw new TemplateException(0, arguments.Count > 0 ? TemplateValue.ToOutput(arguments[0]) : "the template raised an exception") { RaisedByTemplate = true }));
        scope.Set("range", new TemplateCallable((arguments, _) => Range(arguments)));
        scope.Set("namespace", new TemplateCallable((arguments, keywords) =>
        {
            var ns = new TemplateNamespace();
            if (arguments.Count > 0 && arguments[0] is OrderedDictionary<string, object?> initial)
            {
                foreach ((string key, object? value) in initial)
                {
                    ns.Attributes[key] = value;
                }
            }

            foreach ((string key, object? value) in keywords)
            {
                ns.Attributes[key] = value;
            }

            return ns;
        }));
        scope.Set("dict", new TemplateCallable((_, keywords) =>
        {
            var dictionary = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach ((string key, object? value) in keywords)
            {
                dictionary[key] = value;
            }

            return dictionary;
        }));
        scope.Set("strftime_now", new TemplateCallable((arguments, _) =>
            StrFTime(timeProvider.GetLocalNow().DateTime, arguments.Count > 0 ? TemplateValue.ToOutput(arguments[0]) : "%Y-%m-%d")));
    }

    private static List<object?> Range(IReadOnlyList<object?> arguments)
    {
        long Integer(int index) => arguments[index] is long value ? value : throw new InvalidOperationException($"range() needs integers but got {TemplateValue.TypeName(arguments[index])}");

        (long start, long stop, long step) = arguments.Count switch
        {
            1 => (0L, Integer(0), 1L),
            2 => (Integer(0), Integer(1), 1L),
            3 => (Integer(0), Integer(1), Integer(2)),
            _ => throw new InvalidOperationException($"range() takes 1 to 3 arguments but got {arguments.Count}"),
        };
        if (step == 0)
        {
            throw new InvalidOperationException("range() step cannot be zero");
        }

        // The count first, in 128-bit arithmetic: range(-2**63, 2**63 - 1) must be refused, not overflow or allocate.
        Int128 span = step > 0 ? (Int128)stop - start : (Int128)start - stop;
        Int128 count = span <= 0 ? 0 : ((span - 1) / Int128.Abs(step)) + 1;
        TemplateBudget.CheckItems(count > long.MaxValue ? long.MaxValue : (long)count);
        var result = new List<object?>((int)count);
        for (long i = 0; i < (long)count; i++)
        {
            result.Add(start + (i * step));
        }

        return result;
    }

    private static string StrFTime(DateTime time, string format)
    {
        var result = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                result.Append(format[i]);
                continue;
            }

            char code = format[++i];
            result.Append(code switch
            {
                'd' => time.ToString("dd", CultureInfo.InvariantCulture),
                'm' => time.ToString("MM", CultureInfo.InvariantCulture),
                'Y' => time.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => time.ToString("yy", CultureInfo.InvariantCulture),
                'B' => time.ToString("MMMM", CultureInfo.InvariantCulture),
                'b' => time.ToString("MMM", CultureInfo.InvariantCulture),
                'A' => time.ToString("dddd", CultureInfo.InvariantCulture),
                'a' => time.ToString("ddd", CultureInfo.InvariantCulture),
                'H' => time.ToString("HH", CultureInfo.InvariantCulture),
                'I' => time.ToString("hh", CultureInfo.InvariantCulture),
                'M' => time.ToString("mm", CultureInfo.InvariantCulture),
                'S' => time.ToString("ss", CultureInfo.InvariantCulture),
                'p' => time.ToString("tt", CultureInfo.InvariantCulture),
                'j' => time.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + code,
            });
        }

        return result.ToString();
    }
}
