namespace Microsoft.Azure.Functions.Worker;

/// <summary>Marks a method as a function with the given name.</summary>
[AttributeUsage(AttributeTargets.Method)]
public class FunctionAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The function name, unique in the app.</param>
    public FunctionAttribute(string name)
    {
        Name = name;
    }

    /// <summary>The function name.</summary>
    public string Name { get; }
}
