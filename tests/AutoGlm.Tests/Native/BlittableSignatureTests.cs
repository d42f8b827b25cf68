using System.Reflection;
using AutoGlm.Native;

namespace AutoGlm.Tests.Native;

public sealed class BlittableSignatureTests
{
    private static readonly HashSet<Type> s_blittable =
    [
        typeof(void), typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint),
        typeof(long), typeof(ulong), typeof(nint), typeof(nuint), typeof(float), typeof(double),
    ];

    [Fact]
    public void OrtApi_EveryFunctionPointerSignature_IsBlittableAndUnmanaged()
    {
        FieldInfo[] fields = typeof(OrtApi).GetFields(BindingFlags.Public | BindingFlags.Instance);
        Assert.True(fields.Length >= 70, $"expected the bound OrtApi functions, found {fields.Length} fields");

        var problems = new List<string>();
        foreach (FieldInfo field in fields)
        {
            Type type = field.GetModifiedFieldType();
            if (!type.IsFunctionPointer)
            {
                problems.Add($"{field.Name} is {type}, not a function pointer");
                continue;
            }

            if (!type.IsUnmanagedFunctionPointer)
            {
                problems.Add($"{field.Name} is a managed function pointer");
            }

            CheckBlittable(field.Name + " return", type.GetFunctionPointerReturnType(), problems);
            foreach (Type parameter in type.GetFunctionPointerParameterTypes())
            {
                CheckBlittable(field.Name, parameter, problems);
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void BlittableCheck_RejectsManagedTypes()
    {
        var problems = new List<string>();
        CheckBlittable("x", typeof(string), problems);
        CheckBlittable("y", typeof(bool), problems);
        CheckBlittable("z", typeof(char), problems);
        Assert.Equal(3, problems.Count);
    }

    private static void CheckBlittable(string where, Type type, List<string> problems)
    {
        Type unmodified = type.UnderlyingSystemType;
        if (unmodified.IsFunctionPointer)
        {
            foreach (Type parameter in unmodified.GetFunctionPointerParameterTypes())
            {
                CheckBlittable(where + " (callback)", parameter, problems);
            }

            CheckBlittable(where + " (callback return)", unmodified.GetFunctionPointerReturnType(), problems);
            return;
        }

        while (unmodified.IsPointer)
        {
            unmodified = unmodified.GetElementType()!;
        }

        if (!s_blittable.Contains(unmodified))
        {
            problems.Add($"{where}: {type} is not blittable");
        }
    }
}
