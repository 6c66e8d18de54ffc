namespace Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

/// <summary>Base of every binding attribute (SDK: Worker.Extensions.Abstractions).</summary>
public abstract class BindingAttribute : Attribute
{
}

/// <summary>Base of trigger binding attributes.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public abstract class TriggerBindingAttribute : BindingAttribute
{
}

/// <summary>Base of input binding attributes.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public abstract class InputBindingAttribute : BindingAttribute
{
}

/// <summary>Base of output binding attributes.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.ReturnValue)]
public abstract class OutputBindingAttribute : BindingAttribute
{
}
