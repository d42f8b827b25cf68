namespace AutoGlm.Chat.Jinja;

/// <summary>A function a template can call (a global such as <c>range</c>, a bound method, or a macro).</summary>
internal delegate object? TemplateCallable(IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> keywordArguments);
