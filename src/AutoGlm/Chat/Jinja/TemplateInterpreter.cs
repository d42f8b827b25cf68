using System.Text;

namespace AutoGlm.Chat.Jinja;

/// <summary>Renders parsed template statements against a scope of variables.</summary>
/// <remarks>Not thread-safe; one instance renders once. The parsed template it walks is immutable and shared.</remarks>
internal sealed class TemplateInterpreter
{
    private readonly TimeProvider _timeProvider;
    private readonly TemplateLimits _limits;
    private readonly TemplateBudget _budget;
    private int _macroDepth;
    private int _depth;

    public TemplateInterpreter(TimeProvider timeProvider, TemplateLimits limits)
    {
        _timeProvider = timeProvider;
        _limits = limits;
        _budget = new TemplateBudget(limits, timeProvider);
    }

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public string Render(IReadOnlyList<TemplateStatement> body, IReadOnlyDictionary<string, object?> variables)
    {
        var globals = new TemplateScope(null);
        TemplateGlobals.Register(globals, _timeProvider);
        foreach ((string name, object? value) in variables)
        {
            globals.Set(name, TemplateValue.From(value));
        }

        var output = new StringBuilder();
        using (_budget.Enter())
        {
            Execute(body, new TemplateScope(globals), output);
        }

        return output.ToString();
    }

    /// <summary>Enters one level of nesting (a block, a macro body or a sub-expression), failing cleanly before the stack runs out.</summary>
    private void Enter(int offset)
    {
        if (++_depth > _limits.MaxNestingDepth)
        {
            _depth--;
            throw new TemplateException(offset, TemplateBudget.NestingExceeded(_limits.MaxNestingDepth).Message);
        }

        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _depth--;
            throw new TemplateException(offset, TemplateBudget.StackExhausted(_depth).Message);
        }
    }

    private static void Append(StringBuilder output, string text, int offset)
    {
        if ((long)output.Length + text.Length > TemplateBudget.Current!.Limits.MaxOutputLength)
        {
            try
            {
                TemplateBudget.CheckLength((long)output.Length + text.Length);
            }
            catch (TemplateLimitException e)
            {
                throw new TemplateException(offset, e.Message, e);
            }
        }

        output.Append(text);
    }

    private Flow Execute(IReadOnlyList<TemplateStatement> statements, TemplateScope scope, StringBuilder output)
    {
        foreach (TemplateStatement statement in statements)
        {
            Flow flow = Execute(statement, scope, output);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow Execute(TemplateStatement statement, TemplateScope scope, StringBuilder output)
    {
        Enter(statement.Offset);
        try
        {
            _budget.CheckTime();
            return ExecuteCore(statement, scope, output);
        }
        catch (TemplateLimitException e)
        {
            throw new TemplateException(statement.Offset, e.Message, e);
        }
        finally
        {
            _depth--;
        }
    }

    private Flow ExecuteCore(TemplateStatement statement, TemplateScope scope, StringBuilder output)
    {
        switch (statement)
        {
            case TextStatement text:
                Append(output, text.Text, text.Offset);
                return Flow.Normal;
            case OutputStatement print:
                Append(output, ToOutput(Evaluate(print.Value, scope), print.Offset), print.Offset);
                return Flow.Normal;
            case IfStatement branch:
                return Execute(TemplateValue.IsTruthy(Evaluate(branch.Condition, scope)) ? branch.Then : branch.Else, scope, output);
            case ForStatement loop:
                return ExecuteFor(loop, scope, output);
            case SetStatement set:
                object? value = set.Value is null ? RenderBlock(set.Body, new TemplateScope(scope)) : Evaluate(set.Value, scope);
                Assign(set.Target, value, scope);
                return Flow.Normal;
            case MacroStatement macro:
                scope.Set(macro.Name, CreateMacro(macro, scope));
                return Flow.Normal;
            case LoopControlStatement control:
                return control.IsBreak ? Flow.Break : Flow.Continue;
            default:
                throw new TemplateException(statement.Offset, $"unknown statement {statement.GetType().Name}");
        }
    }

    private static string ToOutput(object? value, int offset)
    {
        try
        {
            return TemplateValue.ToOutput(value);
        }
        catch (InvalidOperationException e)
        {
            throw new TemplateException(offset, e.Message, e);
        }
    }

    private string RenderBlock(IReadOnlyList<TemplateStatement> body, TemplateScope scope)
    {
        var output = new StringBuilder();
        Execute(body, scope, output);
        return output.ToString();
    }

    private Flow ExecuteFor(ForStatement loop, TemplateScope scope, StringBuilder output)
    {
        object? iterable = Evaluate(loop.Iterable, scope);
        List<object?> items = iterable switch
        {
            List<object?> list => list,
            OrderedDictionary<string, object?> dictionary => [.. dictionary.Keys],
            string text => [.. text.Select(c => (object?)c.ToString())],
            null or TemplateUndefined => [],
            _ => throw new TemplateException(loop.Iterable.Offset, $"cannot loop over {TemplateValue.TypeName(iterable)}"),
        };

        if (loop.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (object? item in items)
            {
                _budget.CountIteration();
                var filterScope = new TemplateScope(scope);
                Bind(loop, filterScope, item);
                if (TemplateValue.IsTruthy(Evaluate(loop.Filter, filterScope)))
                {
                    kept.Add(item);
                }
            }

            items = kept;
        }

        if (items.Count == 0)
        {
            return Execute(loop.Else, scope, output);
        }

        for (int i = 0; i < items.Count; i++)
        {
            _budget.CountIteration();
            var body = new TemplateScope(scope);
            Bind(loop, body, items[i]);
            var info = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : new TemplateUndefined("loop.previtem"),
                ["nextitem"] = i + 1 < items.Count ? items[i + 1] : new TemplateUndefined("loop.nextitem"),
            };
            int index = i;
            info["cycle"] = new TemplateCallable((arguments, _) => arguments.Count == 0 ? null : arguments[index % arguments.Count]);
            body.Set("loop", info);
            if (Execute(loop.Body, body, output) == Flow.Break)
            {
                break;
            }
        }

        return Flow.Normal;
    }

    private static void Bind(ForStatement loop, TemplateScope scope, object? item)
    {
        if (loop.Targets.Count == 1)
        {
            scope.Set(loop.Targets[0], item);
            return;
        }

        if (item is not List<object?> parts || parts.Count != loop.Targets.Count)
        {
            throw new TemplateException(loop.Offset, $"cannot unpack {TemplateValue.TypeName(item)} into {loop.Targets.Count} loop variables");
        }

        for (int i = 0; i < parts.Count; i++)
        {
            scope.Set(loop.Targets[i], parts[i]);
        }
    }

    private void Assign(TemplateExpression target, object? value, TemplateScope scope)
    {
        switch (target)
        {
            case NameExpression name:
                scope.Set(name.Name, value);
                break;
            case AttributeExpression { Target: var owner } attribute:
                if (Evaluate(owner, scope) is not TemplateNamespace ns)
                {
                    throw new TemplateException(attribute.Offset, $"cannot set attribute '{attribute.Name}': only a namespace() object accepts assignments");
                }

                ns.Attributes[attribute.Name] = value;
                break;
            case ListExpression names:
                if (value is not List<object?> parts || parts.Count != names.Items.Count)
                {
                    throw new TemplateException(target.Offset, $"cannot unpack {TemplateValue.TypeName(value)} into {names.Items.Count} names");
                }

                for (int i = 0; i < parts.Count; i++)
                {
                    Assign(names.Items[i], parts[i], scope);
                }

                break;
            default:
                throw new TemplateException(target.Offset, "can only assign to a name, a namespace attribute, or a list of names");
        }
    }

    private TemplateCallable CreateMacro(MacroStatement macro, TemplateScope definition) => (arguments, keywords) =>
    {
        if (arguments.Count > macro.Parameters.Count)
        {
            throw new InvalidOperationException($"macro '{macro.Name}' takes {macro.Parameters.Count} arguments but got {arguments.Count}");
        }

        var scope = new TemplateScope(definition);
        for (int i = 0; i < macro.Parameters.Count; i++)
        {
            string parameter = macro.Parameters[i];
            object? value = i < arguments.Count ? arguments[i]
                : keywords.TryGetValue(parameter, out object? named) ? named
                : macro.Defaults[i] is { } fallback ? Evaluate(fallback, definition)
                : new TemplateUndefined(parameter);
            scope.Set(parameter, value);
        }

        if (++_macroDepth > _limits.MaxMacroCallDepth)
        {
            _macroDepth--;
            throw new TemplateLimitException($"macro '{macro.Name}' nests deeper than TemplateLimits.MaxMacroCallDepth ({_limits.MaxMacroCallDepth} calls in progress); raise it with TemplateLimits if the template is trusted");
        }

        try
        {
            return RenderBlock(macro.Body, scope);
        }
        finally
        {
            _macroDepth--;
        }
    };

    private object? Evaluate(TemplateExpression expression, TemplateScope scope)
    {
        Enter(expression.Offset);
        try
        {
            object? value = EvaluateCore(expression, scope);
            if (value is string { Length: > 4096 } text)
            {
                TemplateBudget.CheckLength(text.Length);
            }

            return value;
        }

        // No catch-and-rethrow of TemplateException here: a catch handler runs above the frames of the throw, so a
        // rethrow at every level of a deep recursion would stack one exception dispatch per level and overflow.
        catch (InvalidOperationException e)
        {
            throw new TemplateException(expression.Offset, e.Message, e);
        }
        catch (ArgumentException e)
        {
            throw new TemplateException(expression.Offset, e.Message, e);
        }
        catch (Exception e) when (e is ArithmeticException or FormatException or InvalidCastException or IndexOutOfRangeException or KeyNotFoundException or NotSupportedException)
        {
            throw new TemplateException(expression.Offset, e.Message, e);
        }
        catch (OutOfMemoryException e)
        {
            throw new TemplateException(expression.Offset, $"the template ran out of memory ({e.Message}); lower TemplateLimits.MaxOutputLength or MaxLoopIterations", e);
        }
        finally
        {
            _depth--;
        }
    }

    private object? EvaluateCore(TemplateExpression expression, TemplateScope scope)
    {
        switch (expression)
        {
            case LiteralExpression literal:
                return literal.Value;
            case NameExpression name:
                return scope.Lookup(name.Name);
            case ListExpression list:
                return list.Items.Select(item => Evaluate(item, scope)).ToList();
            case DictionaryExpression dictionary:
                var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach ((TemplateExpression key, TemplateExpression value) in dictionary.Entries)
                {
                    map[TemplateValue.ToOutput(Evaluate(key, scope))] = Evaluate(value, scope);
                }

                return map;
            case AttributeExpression attribute:
                return TemplateMethods.GetAttribute(Evaluate(attribute.Target, scope), attribute.Name, Describe(attribute.Target));
            case IndexExpression index:
                return TemplateMethods.GetItem(Evaluate(index.Target, scope), Evaluate(index.Index, scope), Describe(index.Target));
            case SliceExpression slice:
                return TemplateMethods.Slice(
                    Evaluate(slice.Target, scope),
                    slice.Start is null ? null : Evaluate(slice.Start, scope),
                    slice.Stop is null ? null : Evaluate(slice.Stop, scope),
                    slice.Step is null ? null : Evaluate(slice.Step, scope));
            case CallExpression call:
                return EvaluateCall(call, scope);
            case FilterExpression filter:
                return TemplateFilters.Apply(
                    filter.Name,
                    Evaluate(filter.Value, scope),
                    [.. filter.Arguments.Select(a => Evaluate(a, scope))],
                    filter.KeywordArguments.ToDictionary(k => k.Name, k => Evaluate(k.Value, scope)));
            case TestExpression test:
                bool result = TemplateTestFunctions.Apply(test.Name, Evaluate(test.Value, scope), [.. test.Arguments.Select(a => Evaluate(a, scope))]);
                return test.Negated ? !result : result;
            case UnaryExpression unary:
                object? operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !TemplateValue.IsTruthy(operand),
                    "-" => operand switch
                    {
                        long l => (object)(-l),
                        double d => -d,
                        _ => throw new InvalidOperationException($"cannot negate {TemplateValue.TypeName(operand)}"),
                    },
                    _ => operand,
                };
            case BinaryExpression binary:
                return EvaluateBinary(binary, scope);
            case ConditionalExpression conditional:
                return TemplateValue.IsTruthy(Evaluate(conditional.Condition, scope))
                    ? Evaluate(conditional.Then, scope)
                    : conditional.Otherwise is null ? new TemplateUndefined("else") : Evaluate(conditional.Otherwise, scope);
            default:
                throw new TemplateException(expression.Offset, $"unknown expression {expression.GetType().Name}");
        }
    }

    private object? EvaluateCall(CallExpression call, TemplateScope scope)
    {
        List<object?> arguments = [.. call.Arguments.Select(a => Evaluate(a, scope))];
        Dictionary<string, object?> keywords = call.KeywordArguments.ToDictionary(k => k.Name, k => Evaluate(k.Value, scope));
        if (call.Callee is AttributeExpression method)
        {
            object? target = Evaluate(method.Target, scope);
            if (target is not (OrderedDictionary<string, object?> or TemplateNamespace) || TemplateMethods.GetAttribute(target, method.Name, Describe(method.Target)) is not TemplateCallable)
            {
                return TemplateMethods.Invoke(target, method.Name, arguments, keywords, Describe(method.Target));
            }
        }

        object? callee = Evaluate(call.Callee, scope);
        if (callee is not TemplateCallable function)
        {
            throw new InvalidOperationException($"{Describe(call.Callee)} is {TemplateValue.TypeName(callee)}, which cannot be called");
        }

        return function(arguments, keywords);
    }

    private object? EvaluateBinary(BinaryExpression binary, TemplateScope scope)
    {
        object? left = Evaluate(binary.Left, scope);
        switch (binary.Operator)
        {
            case "and":
                return TemplateValue.IsTruthy(left) ? Evaluate(binary.Right, scope) : left;
            case "or":
                return TemplateValue.IsTruthy(left) ? left : Evaluate(binary.Right, scope);
        }

        object? right = Evaluate(binary.Right, scope);
        switch (binary.Operator)
        {
            case "==":
                return TemplateValue.AreEqual(left, right);
            case "!=":
                return !TemplateValue.AreEqual(left, right);
            case "in":
                return TemplateMethods.Contains(right, left);
            case "not in":
                return !TemplateMethods.Contains(right, left);
            case "~":
                return TemplateValue.ToOutput(left) + TemplateValue.ToOutput(right);
            case "<":
                return TemplateValue.Compare(left, right) < 0;
            case ">":
                return TemplateValue.Compare(left, right) > 0;
            case "<=":
                return TemplateValue.Compare(left, right) <= 0;
            case ">=":
                return TemplateValue.Compare(left, right) >= 0;
        }

        if (left is null or TemplateUndefined || right is null or TemplateUndefined)
        {
            throw new InvalidOperationException($"cannot apply '{binary.Operator}' to {TemplateValue.TypeName(left)} and {TemplateValue.TypeName(right)}");
        }

        if (binary.Operator == "+")
        {
            if (left is List<object?> a && right is List<object?> b)
            {
                TemplateBudget.CheckItems((long)a.Count + b.Count);
                return (List<object?>)[.. a, .. b];
            }

            if (left is string || right is string)
            {
                return TemplateValue.ToOutput(left) + TemplateValue.ToOutput(right);
            }
        }

        if (binary.Operator == "*" && left is string repeated && right is long times)
        {
            long count = Math.Clamp(times, 0, int.MaxValue);
            TemplateBudget.CheckLength(repeated.Length * count);
            return string.Concat(Enumerable.Repeat(repeated, (int)count));
        }

        if (left is long x && right is long y && binary.Operator is "+" or "-" or "*" or "//" or "%")
        {
            return binary.Operator switch
            {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "//" => y == 0 ? throw new InvalidOperationException("integer division by zero") : (long)Math.Floor((double)x / y),
                _ => y == 0 ? throw new InvalidOperationException("modulo by zero") : ((x % y) + y) % y,
            };
        }

        double p = TemplateValue.ToDouble(left);
        double q = TemplateValue.ToDouble(right);
        return binary.Operator switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => p / q,
            "//" => Math.Floor(p / q),
            "%" => p - (q * Math.Floor(p / q)),
            "**" => left is long && right is long && q >= 0 ? (object)(long)Math.Pow(p, q) : Math.Pow(p, q),
            _ => throw new InvalidOperationException($"unknown operator '{binary.Operator}'"),
        };
    }

    private static string Describe(TemplateExpression expression) => $"'{Spell(expression)}'";

    private static string Spell(TemplateExpression expression) => expression switch
    {
        NameExpression name => name.Name,
        AttributeExpression attribute => $"{Spell(attribute.Target)}.{attribute.Name}",
        IndexExpression { Index: LiteralExpression { Value: string key } } index => $"{Spell(index.Target)}['{key}']",
        IndexExpression { Index: LiteralExpression { Value: long position } } index => $"{Spell(index.Target)}[{position}]",
        IndexExpression index => $"{Spell(index.Target)}[...]",
        CallExpression call => $"{Spell(call.Callee)}(...)",
        _ => "(expression)",
    };
}
