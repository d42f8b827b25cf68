using System.Globalization;

namespace AutoGlm.Chat.Jinja;

/// <summary>Parses template tokens into statements: the Jinja subset that chat templates use.</summary>
/// <remarks>Not thread-safe; one instance parses one template.</remarks>
internal sealed class TemplateParser
{
    private readonly List<TemplateToken> _tokens;
    private readonly int _maxDepth;
    private int _position;
    private int _depth;

    private TemplateParser(List<TemplateToken> tokens, int maxDepth)
    {
        _tokens = tokens;
        _maxDepth = maxDepth;
    }

    /// <exception cref="TemplateException">A syntax error, or nesting deeper than <see cref="TemplateLimits.MaxNestingDepth"/>.</exception>
    public static IReadOnlyList<TemplateStatement> Parse(TemplateSource source, TemplateLimits limits)
    {
        var parser = new TemplateParser(TemplateLexer.Tokenize(source), limits.MaxNestingDepth);
        List<TemplateStatement> body = parser.ParseStatements([], out string? terminator);
        if (terminator is not null)
        {
            throw new TemplateException(parser.Previous.Offset, $"'{{% {terminator} %}}' has no matching opening tag");
        }

        return body;
    }

    private TemplateToken Current => _tokens[_position];

    /// <summary>Enters one level of nesting; recursion in this parser is bounded by it, so no input can overflow the stack.</summary>
    private void Enter()
    {
        if (++_depth > _maxDepth)
        {
            throw new TemplateException(Current.Offset, TemplateBudget.NestingExceeded(_maxDepth).Message);
        }

        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new TemplateException(Current.Offset, TemplateBudget.StackExhausted(_depth).Message);
        }
    }

    private void Exit() => _depth--;

    /// <summary>Checks a left-deep chain (filters, operators, attribute accesses) that grows the tree without recursion here.</summary>
    private void CheckChain(int length)
    {
        if (_depth + length > _maxDepth)
        {
            throw new TemplateException(Current.Offset, TemplateBudget.NestingExceeded(_maxDepth).Message);
        }
    }

    private TemplateToken Previous => _tokens[Math.Max(0, _position - 1)];

    private List<TemplateStatement> ParseStatements(string[] terminators, out string? terminator)
    {
        Enter();
        try
        {
            return ParseStatementsCore(terminators, out terminator);
        }
        finally
        {
            Exit();
        }
    }

    private List<TemplateStatement> ParseStatementsCore(string[] terminators, out string? terminator)
    {
        var statements = new List<TemplateStatement>();
        while (true)
        {
            TemplateToken token = Current;
            switch (token.Kind)
            {
                case TemplateTokenKind.End:
                    terminator = null;
                    return statements;
                case TemplateTokenKind.Text:
                    _position++;
                    statements.Add(new TextStatement(token.Offset, token.Value));
                    break;
                case TemplateTokenKind.OpenExpression:
                    _position++;
                    TemplateExpression value = ParseExpression();
                    Expect(TemplateTokenKind.CloseExpression, "'}}' to close the expression");
                    statements.Add(new OutputStatement(token.Offset, value));
                    break;
                case TemplateTokenKind.OpenStatement:
                    TemplateToken keyword = _tokens[_position + 1];
                    if (keyword.Kind != TemplateTokenKind.Identifier)
                    {
                        throw new TemplateException(keyword.Offset, "expected a tag name such as 'if', 'for' or 'set' after '{%'");
                    }

                    if (terminators.Contains(keyword.Value) || keyword.Value.StartsWith("end", StringComparison.Ordinal)
                        || keyword.Value is "else" or "elif")
                    {
                        _position += 2;
                        terminator = keyword.Value;
                        return statements;
                    }

                    _position += 2;
                    statements.AddRange(ParseTag(token.Offset, keyword));
                    break;
                default:
                    throw new TemplateException(token.Offset, $"unexpected '{token.Value}'");
            }
        }
    }

    private List<TemplateStatement> ParseBlock(int offset, string opener, string[] terminators, out string terminator)
    {
        List<TemplateStatement> body = ParseStatements(terminators, out string? found);
        if (found is null)
        {
            throw new TemplateException(offset, $"'{{% {opener} %}}' is never closed; expected {string.Join(" or ", terminators.Select(t => $"'{{% {t} %}}'"))}");
        }

        if (!terminators.Contains(found))
        {
            throw new TemplateException(Previous.Offset, $"'{{% {found} %}}' does not close '{{% {opener} %}}'; expected {string.Join(" or ", terminators.Select(t => $"'{{% {t} %}}'"))}");
        }

        terminator = found;
        return body;
    }

    private List<TemplateStatement> ParseTag(int offset, TemplateToken keyword)
    {
        switch (keyword.Value)
        {
            case "if":
                return [ParseIf(offset)];
            case "for":
                return [ParseFor(offset)];
            case "set":
                return [ParseSet(offset)];
            case "macro":
                return [ParseMacro(offset)];
            case "break" or "continue":
                ExpectCloseStatement();
                return [new LoopControlStatement(offset, keyword.Value == "break")];
            case "generation":
                // transformers' marker for assistant-generated spans; it renders its body unchanged.
                ExpectCloseStatement();
                List<TemplateStatement> body = ParseBlock(offset, "generation", ["endgeneration"], out _);
                ExpectCloseStatement();
                return body;
            default:
                throw new TemplateException(keyword.Offset, $"the tag '{{% {keyword.Value} %}}' is not supported by AutoGlm's template engine (supported: if, for, set, macro, break, continue, generation)");
        }
    }

    private IfStatement ParseIf(int offset)
    {
        TemplateExpression condition = ParseExpression();
        ExpectCloseStatement();
        List<TemplateStatement> then = ParseBlock(offset, "if", ["elif", "else", "endif"], out string terminator);
        IReadOnlyList<TemplateStatement> otherwise = [];
        if (terminator == "elif")
        {
            Enter();
            try
            {
                otherwise = [ParseIf(Previous.Offset)];
            }
            finally
            {
                Exit();
            }

        }
        else if (terminator == "else")
        {
            ExpectCloseStatement();
            otherwise = ParseBlock(offset, "if", ["endif"], out _);
            ExpectCloseStatement();
        }
        else
        {
            ExpectCloseStatement();
        }

        return new IfStatement(offset, condition, then, otherwise);
    }

    private ForStatement ParseFor(int offset)
    {
        var targets = new List<string>();
        bool parenthesized = Accept("(");
        do
        {
            targets.Add(ExpectIdentifier("a loop variable name"));
        }
        while (Accept(","));
        if (parenthesized)
        {
            ExpectSymbol(")");
        }

        if (!Current.IsKeyword("in"))
        {
            throw new TemplateException(Current.Offset, "expected 'in' after the loop variable");
        }

        _position++;
        TemplateExpression iterable = ParseTupleOrExpression(allowConditional: false);
        TemplateExpression? filter = null;
        if (Current.IsKeyword("if"))
        {
            _position++;
            filter = ParseExpression();
        }

        if (Current.IsKeyword("recursive"))
        {
            throw new TemplateException(Current.Offset, "recursive loops are not supported");
        }

        ExpectCloseStatement();
        List<TemplateStatement> body = ParseBlock(offset, "for", ["else", "endfor"], out string terminator);
        IReadOnlyList<TemplateStatement> otherwise = [];
        ExpectCloseStatement();
        if (terminator == "else")
        {
            otherwise = ParseBlock(offset, "for", ["endfor"], out _);
            ExpectCloseStatement();
        }

        return new ForStatement(offset, targets, iterable, filter, body, otherwise);
    }

    private SetStatement ParseSet(int offset)
    {
        TemplateExpression target = ParsePostfix(ParsePrimary());
        if (Current.IsSymbol(","))
        {
            var names = new List<TemplateExpression> { target };
            while (Accept(","))
            {
                names.Add(ParsePostfix(ParsePrimary()));
            }

            target = new ListExpression(target.Offset, names);
        }

        if (Accept("="))
        {
            TemplateExpression value = ParseTupleOrExpression(allowConditional: true);
            ExpectCloseStatement();
            return new SetStatement(offset, target, value, []);
        }

        ExpectCloseStatement();
        List<TemplateStatement> body = ParseBlock(offset, "set", ["endset"], out _);
        ExpectCloseStatement();
        return new SetStatement(offset, target, null, body);
    }

    private MacroStatement ParseMacro(int offset)
    {
        string name = ExpectIdentifier("a macro name");
        ExpectSymbol("(");
        var parameters = new List<string>();
        var defaults = new List<TemplateExpression?>();
        while (!Accept(")"))
        {
            parameters.Add(ExpectIdentifier("a parameter name"));
            defaults.Add(Accept("=") ? ParseExpression() : null);
            if (!Current.IsSymbol(")"))
            {
                ExpectSymbol(",");
            }
        }

        ExpectCloseStatement();
        List<TemplateStatement> body = ParseBlock(offset, "macro", ["endmacro"], out _);
        ExpectCloseStatement();
        return new MacroStatement(offset, name, parameters, defaults, body);
    }

    private TemplateExpression ParseTupleOrExpression(bool allowConditional)
    {
        TemplateExpression first = ParseExpression(allowConditional);
        if (!Current.IsSymbol(","))
        {
            return first;
        }

        var items = new List<TemplateExpression> { first };
        while (Accept(","))
        {
            items.Add(ParseExpression(allowConditional));
        }

        return new ListExpression(first.Offset, items);
    }

    private TemplateExpression ParseExpression(bool allowConditional = true)
    {
        Enter();
        try
        {
            return ParseExpressionCore(allowConditional);
        }
        finally
        {
            Exit();
        }
    }

    private TemplateExpression ParseExpressionCore(bool allowConditional)
    {
        TemplateExpression value = ParseOr();
        if (allowConditional && Current.IsKeyword("if"))
        {
            int offset = Current.Offset;
            _position++;
            TemplateExpression condition = ParseOr();
            TemplateExpression? otherwise = null;
            if (Current.IsKeyword("else"))
            {
                _position++;
                otherwise = ParseExpression();
            }

            return new ConditionalExpression(offset, condition, value, otherwise);
        }

        return value;
    }

    private TemplateExpression ParseOr()
    {
        TemplateExpression left = ParseAnd();
        int chain = 0;
        while (Current.IsKeyword("or"))
        {
            CheckChain(++chain);
            int offset = Current.Offset;
            _position++;
            left = new BinaryExpression(offset, "or", left, ParseAnd());
        }

        return left;
    }

    private TemplateExpression ParseAnd()
    {
        TemplateExpression left = ParseNot();
        int chain = 0;
        while (Current.IsKeyword("and"))
        {
            CheckChain(++chain);
            int offset = Current.Offset;
            _position++;
            left = new BinaryExpression(offset, "and", left, ParseNot());
        }

        return left;
    }

    private TemplateExpression ParseNot()
    {
        if (Current.IsKeyword("not"))
        {
            int offset = Current.Offset;
            _position++;
            Enter();
            try
            {
                return new UnaryExpression(offset, "not", ParseNot());
            }
            finally
            {
                Exit();
            }

        }

        return ParseCompare();
    }

    private TemplateExpression ParseCompare()
    {
        TemplateExpression left = ParseMath1();
        int chain = 0;
        while (true)
        {
            TemplateToken token = Current;
            string? op = null;
            if (token.Kind == TemplateTokenKind.Symbol && token.Value is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                op = token.Value;
                _position++;
            }
            else if (token.IsKeyword("in"))
            {
                op = "in";
                _position++;
            }
            else if (token.IsKeyword("not") && _tokens[_position + 1].IsKeyword("in"))
            {
                op = "not in";
                _position += 2;
            }

            if (op is null)
            {
                return left;
            }

            CheckChain(++chain);
            left = new BinaryExpression(token.Offset, op, left, ParseMath1());
        }
    }

    private TemplateExpression ParseMath1() => ParseBinary(ParseConcat, "+", "-");

    private TemplateExpression ParseConcat() => ParseBinary(ParseMath2, "~");

    private TemplateExpression ParseMath2() => ParseBinary(ParsePower, "*", "/", "//", "%");

    private TemplateExpression ParsePower() => ParseBinary(() => ParseUnary(), "**");

    private TemplateExpression ParseBinary(Func<TemplateExpression> operand, params string[] operators)
    {
        TemplateExpression left = operand();
        int chain = 0;
        while (Current.Kind == TemplateTokenKind.Symbol && operators.Contains(Current.Value))
        {
            CheckChain(++chain);
            TemplateToken token = Current;
            _position++;
            left = new BinaryExpression(token.Offset, token.Value, left, operand());
        }

        return left;
    }

    private TemplateExpression ParseUnary(bool withFilters = true)
    {
        // As in Jinja, filters bind to the negated value: -3 | abs is abs(-3).
        TemplateExpression value;
        if (Current.IsSymbol("-") || Current.IsSymbol("+"))
        {
            TemplateToken token = Current;
            _position++;
            Enter();
            try
            {
                value = new UnaryExpression(token.Offset, token.Value, ParseUnary(withFilters: false));
            }
            finally
            {
                Exit();
            }

        }
        else
        {
            value = ParsePostfix(ParsePrimary());
        }

        return withFilters ? ParseFiltersAndTests(value) : value;
    }

    private TemplateExpression ParsePrimary()
    {
        TemplateToken token = Current;
        _position++;
        switch (token.Kind)
        {
            case TemplateTokenKind.String:
                if (Current.Kind != TemplateTokenKind.String)
                {
                    return new LiteralExpression(token.Offset, token.Value);
                }

                var text = new System.Text.StringBuilder(token.Value);
                while (Current.Kind == TemplateTokenKind.String)
                {
                    text.Append(Current.Value);
                    _position++;
                }

                return new LiteralExpression(token.Offset, text.ToString());
            case TemplateTokenKind.Integer:
                return new LiteralExpression(token.Offset, long.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long integer)
                    ? (object)integer
                    : double.Parse(token.Value, CultureInfo.InvariantCulture));
            case TemplateTokenKind.Float:
                return new LiteralExpression(token.Offset, double.Parse(token.Value, CultureInfo.InvariantCulture));
            case TemplateTokenKind.Identifier:
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpression(token.Offset, true),
                    "false" or "False" => new LiteralExpression(token.Offset, false),
                    "none" or "None" => new LiteralExpression(token.Offset, null),
                    _ => new NameExpression(token.Offset, token.Value),
                };
            case TemplateTokenKind.Symbol when token.Value == "(":
                if (Accept(")"))
                {
                    return new ListExpression(token.Offset, []);
                }

                TemplateExpression inner = ParseTupleOrExpression(allowConditional: true);
                ExpectSymbol(")");
                return inner;
            case TemplateTokenKind.Symbol when token.Value == "[":
                var items = new List<TemplateExpression>();
                while (!Accept("]"))
                {
                    items.Add(ParseExpression());
                    if (!Current.IsSymbol("]"))
                    {
                        ExpectSymbol(",");
                    }
                }

                return new ListExpression(token.Offset, items);
            case TemplateTokenKind.Symbol when token.Value == "{":
                var entries = new List<(TemplateExpression, TemplateExpression)>();
                while (!Accept("}"))
                {
                    TemplateExpression key = ParseExpression();
                    ExpectSymbol(":");
                    entries.Add((key, ParseExpression()));
                    if (!Current.IsSymbol("}"))
                    {
                        ExpectSymbol(",");
                    }
                }

                return new DictionaryExpression(token.Offset, entries);
            default:
                throw new TemplateException(token.Offset, token.Kind == TemplateTokenKind.End ? "the template ends in the middle of an expression" : $"expected a value but found '{token.Value}'");
        }
    }

    private TemplateExpression ParsePostfix(TemplateExpression target)
    {
        int chain = 0;
        while (true)
        {
            TemplateToken token = Current;
            CheckChain(chain++);
            if (Accept("."))
            {
                TemplateToken name = Current;
                _position++;
                if (name.Kind == TemplateTokenKind.Integer)
                {
                    target = new IndexExpression(token.Offset, target, new LiteralExpression(name.Offset, long.Parse(name.Value, CultureInfo.InvariantCulture)));
                }
                else if (name.Kind == TemplateTokenKind.Identifier)
                {
                    target = new AttributeExpression(token.Offset, target, name.Value);
                }
                else
                {
                    throw new TemplateException(name.Offset, "expected an attribute name after '.'");
                }
            }
            else if (Accept("["))
            {
                TemplateExpression? start = Current.IsSymbol(":") ? null : ParseExpression();
                if (!Current.IsSymbol(":"))
                {
                    ExpectSymbol("]");
                    target = new IndexExpression(token.Offset, target, start!);
                    continue;
                }

                _position++;
                TemplateExpression? stop = Current.IsSymbol(":") || Current.IsSymbol("]") ? null : ParseExpression();
                TemplateExpression? step = null;
                if (Accept(":") && !Current.IsSymbol("]"))
                {
                    step = ParseExpression();
                }

                ExpectSymbol("]");
                target = new SliceExpression(token.Offset, target, start, stop, step);
            }
            else if (Accept("("))
            {
                (List<TemplateExpression> arguments, List<(string, TemplateExpression)> keywords) = ParseArguments();
                target = new CallExpression(token.Offset, target, arguments, keywords);
            }
            else
            {
                return target;
            }
        }
    }

    private (List<TemplateExpression>, List<(string, TemplateExpression)>) ParseArguments()
    {
        var arguments = new List<TemplateExpression>();
        var keywords = new List<(string, TemplateExpression)>();
        while (!Accept(")"))
        {
            if (Current.Kind == TemplateTokenKind.Identifier && _tokens[_position + 1].IsSymbol("="))
            {
                string name = Current.Value;
                _position += 2;
                keywords.Add((name, ParseExpression()));
            }
            else
            {
                arguments.Add(ParseExpression());
            }

            if (!Current.IsSymbol(")"))
            {
                ExpectSymbol(",");
            }
        }

        return (arguments, keywords);
    }

    private TemplateExpression ParseFiltersAndTests(TemplateExpression value)
    {
        int chain = 0;
        while (true)
        {
            TemplateToken token = Current;
            CheckChain(chain++);
            if (Accept("|"))
            {
                string name = ExpectIdentifier("a filter name after '|'");
                List<TemplateExpression> arguments = [];
                List<(string, TemplateExpression)> keywords = [];
                if (Accept("("))
                {
                    (arguments, keywords) = ParseArguments();
                }

                value = ParsePostfix(new FilterExpression(token.Offset, value, name, arguments, keywords));
            }
            else if (token.IsKeyword("is"))
            {
                _position++;
                bool negated = false;
                if (Current.IsKeyword("not"))
                {
                    negated = true;
                    _position++;
                }

                string name = Current.Kind == TemplateTokenKind.Identifier && Current.Value is "none" or "None" or "true" or "True" or "false" or "False"
                    ? Current.Value.ToLowerInvariant()
                    : null!;
                if (name is not null)
                {
                    _position++;
                }
                else
                {
                    name = ExpectIdentifier("a test name after 'is'");
                }

                List<TemplateExpression> arguments = [];
                if (Accept("("))
                {
                    (arguments, _) = ParseArguments();
                }
                else if (Current.Kind is TemplateTokenKind.String or TemplateTokenKind.Integer or TemplateTokenKind.Float
                    || (Current.Kind == TemplateTokenKind.Identifier && Current.Value is not ("and" or "or" or "else" or "if" or "not" or "in" or "is")))
                {
                    arguments = [ParsePostfix(ParsePrimary())];
                }

                value = new TestExpression(token.Offset, value, name, negated, arguments);
            }
            else
            {
                return value;
            }
        }
    }

    private bool Accept(string symbol)
    {
        if (Current.IsSymbol(symbol))
        {
            _position++;
            return true;
        }

        return false;
    }

    private void ExpectSymbol(string symbol)
    {
        if (!Accept(symbol))
        {
            throw new TemplateException(Current.Offset, $"expected '{symbol}' but found {Describe(Current)}");
        }
    }

    private string ExpectIdentifier(string what)
    {
        if (Current.Kind != TemplateTokenKind.Identifier)
        {
            throw new TemplateException(Current.Offset, $"expected {what} but found {Describe(Current)}");
        }

        return _tokens[_position++].Value;
    }

    private void ExpectCloseStatement() => Expect(TemplateTokenKind.CloseStatement, "'%}' to close the tag");

    private void Expect(TemplateTokenKind kind, string what)
    {
        if (Current.Kind != kind)
        {
            throw new TemplateException(Current.Offset, $"expected {what} but found {Describe(Current)}");
        }

        _position++;
    }

    private static string Describe(TemplateToken token) => token.Kind switch
    {
        TemplateTokenKind.End => "the end of the template",
        TemplateTokenKind.String => $"the string '{token.Value}'",
        TemplateTokenKind.Text => "text",
        _ => $"'{token.Value}'",
    };
}
