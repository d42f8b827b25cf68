using AutoGlm.Chat;

namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// The cases that could take a process down (stack overflow, a native crash, a hang), run by <see cref="ChildProcess"/>
/// in a child process. Each case must end with a typed exception; the child prints its type and message and exits 0.
/// </summary>
internal static class ChildCases
{
    public const string Argument = "--autoglm-child-case";

    private const int Huge = 100_000;

    public static IReadOnlyDictionary<string, ChildCase> All { get; } = new Dictionary<string, ChildCase>(StringComparer.Ordinal)
    {
        ["template: 100,000 nested ("] = new(() => ChatTemplate.Parse("{{ " + new string('(', Huge) + "1" + new string(')', Huge) + " }}"), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 nested ["] = new(() => ChatTemplate.Parse("{{ " + new string('[', Huge) + "1" + new string(']', Huge) + " }}"), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 nested {"] = new(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("{'a': ", Huge)) + "1" + new string('}', Huge) + " }}"), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 not"] = new(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("not ", Huge)) + "x }}"), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 unary minus"] = new(() => ChatTemplate.Parse("{{ " + new string('-', Huge) + "1 }}"), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained filters"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat("|trim", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained +"] = new(() => ChatTemplate.Parse("{{ 1" + string.Concat(Enumerable.Repeat(" + 1", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained ~"] = new(() => ChatTemplate.Parse("{{ 'a'" + string.Concat(Enumerable.Repeat(" ~ 'a'", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained and"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat(" and x", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained or"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat(" or x", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained =="] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat(" == x", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained attributes"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat(".a", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained indexes"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat("[0]", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained calls"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat("()", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 chained tests"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat(" is defined", Huge)) + " }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 conditional expressions"] = new(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("1 if x else ", Huge)) + "2 }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 nested if blocks"] = new(() => ChatTemplate.Parse(string.Concat(Enumerable.Repeat("{% if x %}", Huge)) + string.Concat(Enumerable.Repeat("{% endif %}", Huge))), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 nested for blocks"] = new(() => ChatTemplate.Parse(string.Concat(Enumerable.Repeat("{% for i in x %}", Huge)) + string.Concat(Enumerable.Repeat("{% endfor %}", Huge))), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000 elif branches"] = new(() => ChatTemplate.Parse("{% if x %}" + string.Concat(Enumerable.Repeat("{% elif x %}", Huge)) + "{% endif %}"), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: recursive macro"] = new(() => ChatTemplate.Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxMacroCallDepth"]),
        ["template: mutually recursive macros"] = new(() => ChatTemplate.Parse("{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxMacroCallDepth"]),
        ["template: recursive macro with deep limits"] = new(() => ChatTemplate.Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", null, new TemplateLimits { MaxNestingDepth = 10_000, MaxMacroCallDepth = 10_000 }).Render([]), "AutoGlm.TokenizerException", ["nests"]),
        ["template: deep expression with deep limits"] = new(() => ChatTemplate.Parse("{{ x" + string.Concat(Enumerable.Repeat("|trim", Huge)) + " }}", null, new TemplateLimits { MaxNestingDepth = 10_000 }).Render([]), "AutoGlm.TokenizerException", ["nests"]),
        ["template: two nested range(1000000) loops"] = new(() => ChatTemplate.Parse("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxLoopIterations|TemplateLimits.MaxRenderTime"]),
        ["template: range(10**18)"] = new(() => ChatTemplate.Parse("{% for i in range(1000000000000000000) %}{% endfor %}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxLoopIterations|TemplateLimits.MaxRenderTime"]),
        ["template: string doubling to 10^10"] = new(() => ChatTemplate.Parse("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxOutputLength"]),
        ["template: string repetition 10^10"] = new(() => ChatTemplate.Parse("{{ 'a' * 10000000000 }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxOutputLength"]),
        ["template: list doubling"] = new(() => ChatTemplate.Parse("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxLoopIterations|TemplateLimits.MaxRenderTime"]),
        ["template: self-containing list"] = new(() => ChatTemplate.Parse("{% set l = [] %}{{ l.append(l) }}{{ l }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: 100,000-deep list built in a loop"] = new(() => ChatTemplate.Parse("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l|tojson }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxNestingDepth"]),
        ["template: replace amplification"] = new(() => ChatTemplate.Parse("{% set s = 'a' * 100000 %}{{ s.replace('a', s) }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxOutputLength"]),
        ["template: join amplification"] = new(() => ChatTemplate.Parse("{% set s = 'a' * 1000000 %}{{ range(1000)|map('string')|join(s) }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxOutputLength"]),
        ["template: indent amplification"] = new(() => ChatTemplate.Parse("{{ ('\\n' * 1000000)|indent(1000) }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxOutputLength"]),
        ["template: tojson amplification"] = new(() => ChatTemplate.Parse("{% set ns = namespace(l=['x' * 1000000]) %}{% for i in range(10) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|tojson }}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxOutputLength"]),
        ["template: append forever"] = new(() => ChatTemplate.Parse("{% set l = [] %}{% for i in range(1000000) %}{% for j in range(1000000) %}{{ l.append(j) }}{% endfor %}{% endfor %}").Render([]), "AutoGlm.TokenizerException", ["TemplateLimits.MaxLoopIterations|TemplateLimits.MaxRenderTime"]),
        ["options: IntraOpThreads 100000"] = new(() => new GlmModelOptions { IntraOpThreads = 100_000 }.Validate(), "System.ArgumentOutOfRangeException", ["IntraOpThreads"]),
        ["options: IntraOpThreads 300"] = new(() => new GlmModelOptions { IntraOpThreads = 300 }.Validate(), "System.ArgumentOutOfRangeException", ["IntraOpThreads"]),
    };

    /// <summary>Runs the case named by <paramref name="args"/>[1]; returns the process exit code.</summary>
    public static int RunCase(string[] args)
    {
        if (!All.TryGetValue(args[1], out ChildCase? run))
        {
            Console.WriteLine($"unknown case '{args[1]}'");
            return 2;
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            run.Run();
            Console.WriteLine("CASE-RETURNED");
            return 3;
        }
        catch (Exception e)
        {
            Console.WriteLine($"{ChildProcess.Marker}{e.GetType().FullName}: {e.Message}");
            Console.WriteLine($"{ChildProcess.ElapsedMarker}{watch.ElapsedMilliseconds}");
            return 0;
        }
    }
}

/// <summary>A case for <see cref="ChildCases"/>: what to run, the exception type it must end with and what its message must name.</summary>
internal sealed record ChildCase(Action Run, string ExceptionType, string[] MessageNames);
