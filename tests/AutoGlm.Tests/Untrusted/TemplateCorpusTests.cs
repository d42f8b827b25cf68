using AutoGlm.Chat;

namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// A corpus of hostile and broken chat templates run in process under small limits (the ones that could take a
/// process down under the default limits run in a child process: <see cref="ChildProcessCaseTests"/>). Each fails with
/// a TokenizerException naming the template, the line and the limit or construct.
/// </summary>
public sealed class TemplateCorpusTests
{
    private static readonly TemplateLimits s_small = new()
    {
        MaxNestingDepth = 32,
        MaxMacroCallDepth = 8,
        MaxLoopIterations = 1000,
        MaxOutputLength = 10_000,
        MaxRenderTime = TimeSpan.FromSeconds(5),
    };

    public static TheoryData<string> SyntaxErrors =>
    [
        "{{", "{{ }}", "{{ x", "{{ x }", "{% if x %}", "{% if x %}{% endfor %}", "{% for %}", "{% for x %}", "{% for x in %}{% endfor %}",
        "{% endif %}", "{% else %}", "{% elif x %}", "{% set %}", "{% set x %}", "{% macro %}", "{% macro f( %}{% endmacro %}",
        "{% frobnicate %}", "{% %}", "{#", "{{ (1 }}", "{{ [1, }}", "{{ {'a' 1} }}", "{{ x | }}", "{{ x is }}", "{{ 1 + }}",
        "{{ x[ }}", "{{ x.( }}", "{{ 'unterminated }}", "{{ f(a=) }}", "{% for x in y recursive %}{% endfor %}", "{% if %}{% endif %}",
        "{{ x if }}", "{{ not }}", "{{ - }}", "{% break %", "{{ x.1.( }}", "{% include 'x' %}", "{% extends 'x' %}", "{% block b %}{% endblock %}",
        "{% raw %}{% endraw %}",
    ];

    public static TheoryData<string, string> LimitViolations => new()
    {
        { "{{ " + new string('(', 40) + "1" + new string(')', 40) + " }}", "TemplateLimits.MaxNestingDepth" },
        { "{{ " + new string('[', 40) + new string(']', 40) + " }}", "TemplateLimits.MaxNestingDepth" },
        { "{{ " + string.Concat(Enumerable.Repeat("not ", 40)) + "x }}", "TemplateLimits.MaxNestingDepth" },
        { "{{ x" + string.Concat(Enumerable.Repeat("|trim", 40)) + " }}", "TemplateLimits.MaxNestingDepth" },
        { "{{ 1" + string.Concat(Enumerable.Repeat(" + 1", 40)) + " }}", "TemplateLimits.MaxNestingDepth" },
        { "{{ x" + string.Concat(Enumerable.Repeat(".y", 40)) + " }}", "TemplateLimits.MaxNestingDepth" },
        { string.Concat(Enumerable.Repeat("{% if true %}", 40)) + string.Concat(Enumerable.Repeat("{% endif %}", 40)), "TemplateLimits.MaxNestingDepth" },
        { "{% if x %}" + string.Concat(Enumerable.Repeat("{% elif x %}", 40)) + "{% endif %}", "TemplateLimits.MaxNestingDepth" },
        { "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "TemplateLimits.MaxMacroCallDepth" },
        { "{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", "TemplateLimits.MaxLoopIterations" },
        { "{% for i in range(1001) %}{% endfor %}", "TemplateLimits.MaxLoopIterations" },
        { "{% for m in messages %}{% for i in range(1000) %}{% endfor %}{% endfor %}", "TemplateLimits.MaxLoopIterations" },
        { "{% for i in range(10) if i > 100 %}{% endfor %}{% for i in range(995) %}{% endfor %}", "TemplateLimits.MaxLoopIterations" },
        { "{% set l = [] %}{% for i in range(999) %}{{ l.append(i) }}{{ l.append(i) }}{% endfor %}", "TemplateLimits.MaxLoopIterations" },
        { "{{ range(-9223372036854775807, 9223372036854775807) | length }}", "TemplateLimits.MaxLoopIterations" },
        { "{{ 'x' * 10001 }}", "TemplateLimits.MaxOutputLength" },
        { "{{ 'xy' * 9223372036854775807 }}", "TemplateLimits.MaxOutputLength" },
        { "{% for i in range(250) %}{{ 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn' }}{% endfor %}", "TemplateLimits.MaxOutputLength" },
        { "{% set ns = namespace(s='ab') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "TemplateLimits.MaxOutputLength" },
        { "{% set s = 'a' * 200 %}{{ s.replace('a', s) }}", "TemplateLimits.MaxOutputLength" },
        { "{% set s = 'a' * 200 %}{{ s | replace('a', s) }}", "TemplateLimits.MaxOutputLength" },
        { "{% set s = 'a' * 5000 %}{{ [s, s, s] | join }}", "TemplateLimits.MaxOutputLength" },
        { "{% set s = 'a' * 5000 %}{{ s.join(['1', '2', '3']) }}", "TemplateLimits.MaxOutputLength" },
        { "{{ ('\\n' * 100) | indent(200) }}", "TemplateLimits.MaxOutputLength" },
        { "{% set s = 'a' * 4000 %}{{ [s, s, s] | tojson }}", "TemplateLimits.MaxOutputLength" },
        { "{% set s = 'a' * 4000 %}{{ [s, s, s] }}", "TemplateLimits.MaxOutputLength" },
        { "{% set s %}{% for i in range(300) %}0123456789012345678901234567890123456789{% endfor %}{% endset %}", "TemplateLimits.MaxOutputLength" },
        { "{% set l = [] %}{{ l.append(l) }}{{ l }}", "TemplateLimits.MaxNestingDepth" },
        { "{% set l = [] %}{{ l.append(l) }}{{ l | tojson }}", "TemplateLimits.MaxNestingDepth" },
        { "{% set ns = namespace(l=[]) %}{% for i in range(100) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l | tojson }}", "TemplateLimits.MaxNestingDepth" },
    };

    public static TheoryData<string, string> RuntimeErrors => new()
    {
        { "{{ (-9223372036854775807 - 1) % -1 }}", "line 1" },
        { "{{ 1 // 0 }}", "integer division by zero" },
        { "{{ 1 % 0 }}", "modulo by zero" },
        { "{{ raise_exception('no') }}", "no" },
        { "{{ range(1, 2, 0) }}", "range() step cannot be zero" },
        { "{{ range('a') }}", "range() needs integers" },
        { "{{ x() }}", "cannot be called" },
        { "{{ messages.frobnicate() }}", "frobnicate" },
        { "{{ 1 | frobnicate }}", "unknown filter 'frobnicate'" },
        { "{{ 'a' < 1 }}", "cannot compare" },
        { "{% for a, b in [1, 2] %}{% endfor %}", "cannot unpack" },
        { "{% set a, b = 1 %}", "cannot unpack" },
        { "{% set x.y = 1 %}", "namespace" },
        { "{% for x in 5 %}{% endfor %}", "cannot loop over integer" },
        { "{{ -'a' }}", "cannot negate" },
        { "{{ none + 1 }}", "cannot apply '+'" },
        { "{% macro f() %}{% endmacro %}{{ f(1, 2) }}", "takes 0 arguments" },
    };

    [Theory]
    [MemberData(nameof(SyntaxErrors))]
    public void Parse_SyntaxError_NamesTemplateAndLine(string source)
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse(source, "corpus.jinja"));

        Assert.StartsWith("The chat template 'corpus.jinja' has a syntax error at line 1, column ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LimitViolations))]
    public void ParseOrRender_CrossesALimit_NamesTheLimitAndHowToRaiseIt(string source, string limit)
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse(source, "corpus.jinja", s_small).Render([new ChatTemplateMessage("user", "hi")]));

        Assert.Contains("'corpus.jinja'", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 1", e.Message, StringComparison.Ordinal);
        Assert.Contains(limit, e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains("raise it with TemplateLimits", StringComparison.Ordinal) || e.Message.Contains("TemplateLimits.MaxNestingDepth", StringComparison.Ordinal), e.Message);
    }

    [Theory]
    [MemberData(nameof(RuntimeErrors))]
    public void Render_RuntimeError_IsATokenizerExceptionNamingTheProblem(string source, string named)
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse(source, "corpus.jinja").Render([new ChatTemplateMessage("user", "hi")]));

        Assert.Contains("'corpus.jinja'", e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SlowTemplate_StopsAtMaxRenderTime()
    {
        var clock = new SteppingTimeProvider(TimeSpan.FromSeconds(1));
        ChatTemplate template = ChatTemplate.Parse("{% for i in range(100) %}{{ i }}{% endfor %}", "slow.jinja", new TemplateLimits { MaxRenderTime = TimeSpan.FromSeconds(3) });

        var e = Assert.Throws<TokenizerException>(() => template.Render([], timeProvider: clock));

        Assert.Contains("rendering took longer than TemplateLimits.MaxRenderTime (3 s)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ManyAdjacentStringLiterals_IsLinear()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();

        string text = ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("'aaaaaaaaaa' ", 100_000)) + "}}").Render([]);

        Assert.Equal(1_000_000, text.Length);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public void WithLimits_RaisedLimit_RendersWhatTheDefaultRefuses()
    {
        ChatTemplate template = ChatTemplate.Parse("{% for i in range(2000) %}.{% endfor %}", null, s_small);
        Assert.Throws<TokenizerException>(() => template.Render([]));

        string text = template.WithLimits(TemplateLimits.Default).Render([]);

        Assert.Equal(2000, text.Length);
        Assert.Same(TemplateLimits.Default, template.WithLimits(TemplateLimits.Default).Limits);
    }

    [Fact]
    public void Glm4_UnderDefaultLimits_RendersAsBefore()
    {
        Assert.Equal(TemplateLimits.Default, ChatTemplate.Glm4.Limits);
        Assert.Equal("[gMASK]<sop><|user|>\nhi<|assistant|>", ChatTemplate.Glm4.Render([new ChatTemplateMessage("user", "hi")]));
    }

    /// <summary>A clock that moves <paramref name="step"/> forward every time it is read.</summary>
    private sealed class SteppingTimeProvider(TimeSpan step) : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _ticks, step.Ticks);
    }
}
