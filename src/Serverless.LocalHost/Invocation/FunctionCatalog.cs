using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Hosting;

namespace Serverless.LocalHost.Invocation;

/// <summary>
/// The app's functions, found once at start from <c>[Function]</c> methods. Everything that can be checked before the
/// first invocation is checked here, so a bad app fails to start with a message naming the function and parameter.
/// </summary>
internal sealed partial class FunctionCatalog
{
    private readonly Dictionary<string, FunctionDescriptor> _byName = new(StringComparer.OrdinalIgnoreCase);

    public FunctionCatalog(IOptions<LocalHostOptions> options, IEnumerable<TriggerKind> triggerKinds, IEnumerable<IInputBindingProvider> inputBindings)
    {
        var kinds = triggerKinds.ToDictionary(k => k.AttributeType);
        var providers = inputBindings.ToArray();
        foreach (var method in FindFunctionMethods(options.Value))
        {
            var function = Describe(method, kinds, providers);
            if (_byName.TryGetValue(function.Name, out var existing))
            {
                throw new FunctionIndexingException(
                    $"Function name '{function.Name}' is used twice: by {existing.EntryPoint} and by {function.EntryPoint}. Function names must be unique (case-insensitive).");
            }

            _byName.Add(function.Name, function);
        }

        Functions = [.. _byName.Values.OrderBy(f => f.Name, StringComparer.Ordinal)];
    }

    public ImmutableArray<FunctionDescriptor> Functions { get; }

    public FunctionDescriptor? Find(string name) => _byName.GetValueOrDefault(name);

    public IEnumerable<FunctionDescriptor> WithTrigger<TAttribute>()
        where TAttribute : TriggerBindingAttribute => Functions.Where(f => f.Trigger is TAttribute);

    private static IEnumerable<MethodInfo> FindFunctionMethods(LocalHostOptions options)
    {
        IEnumerable<Type> types = options.FunctionTypes.Count > 0
            ? options.FunctionTypes
            : (options.FunctionAssemblies.Count > 0 ? options.FunctionAssemblies : [Assembly.GetEntryAssembly()!]).SelectMany(a => a.GetTypes());
        return types
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null);
    }

    private static FunctionDescriptor Describe(MethodInfo method, Dictionary<Type, TriggerKind> kinds, IInputBindingProvider[] providers)
    {
        var name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
        var where = $"{method.DeclaringType!.FullName}.{method.Name}";
        if (string.IsNullOrWhiteSpace(name) || !ValidName().IsMatch(name))
        {
            throw new FunctionIndexingException($"Function '{name}' ({where}): a function name must start with a letter and hold only letters, digits, '_' and '-' (at most 128).");
        }

        if (method.IsGenericMethodDefinition || method.DeclaringType.IsGenericTypeDefinition || (!method.IsStatic && method.DeclaringType.IsAbstract))
        {
            throw new FunctionIndexingException($"Function '{name}' ({where}): a function must be a non-generic method of a concrete class.");
        }

        var parameters = method.GetParameters();
        var triggers = parameters
            .Select(p => (Parameter: p, Attribute: p.GetCustomAttributes().OfType<TriggerBindingAttribute>().SingleOrDefault()))
            .Where(x => x.Attribute is not null)
            .ToArray();
        if (triggers.Length != 1)
        {
            throw new FunctionIndexingException($"Function '{name}' ({where}): needs exactly one trigger parameter, found {triggers.Length}.");
        }

        var (triggerParameter, trigger) = triggers[0];
        if (!kinds.TryGetValue(trigger!.GetType(), out var kind))
        {
            throw new FunctionIndexingException($"Function '{name}', parameter '{triggerParameter.Name}': the trigger [{trigger.GetType().Name}] is not supported by the local runtime.");
        }

        if (kind.ParameterTypes.Count > 0 && !kind.ParameterTypes.Contains(triggerParameter.ParameterType))
        {
            throw new FunctionIndexingException(
                $"Function '{name}', parameter '{triggerParameter.Name}': [{trigger.GetType().Name}] cannot bind to {triggerParameter.ParameterType.Name}; " +
                $"use one of {string.Join(", ", kind.ParameterTypes.Select(t => t.Name))}.");
        }

        IReadOnlyCollection<string> bindingDataNames;
        try
        {
            bindingDataNames = kind.Validate(trigger, name);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new FunctionIndexingException($"Function '{name}', parameter '{triggerParameter.Name}': {ex.Message}", ex);
        }

        var binders = parameters
            .Select(p => p == triggerParameter
                ? (context, _) => new ValueTask<object?>(((LocalFunctionContext)context).BindTriggerAsync())
                : CreateBinder(name, p, bindingDataNames, providers))
            .ToImmutableArray();
        return new FunctionDescriptor(name, method, trigger, triggerParameter, kind.BindingType, binders);
    }

    private static ParameterBinder CreateBinder(string functionName, ParameterInfo parameter, IReadOnlyCollection<string> bindingDataNames, IInputBindingProvider[] providers)
    {
        if (parameter.ParameterType == typeof(FunctionContext))
        {
            return (context, _) => ValueTask.FromResult<object?>(context);
        }

        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return (context, _) => ValueTask.FromResult<object?>(context.CancellationToken);
        }

        if (parameter.ParameterType.IsByRef)
        {
            throw new FunctionIndexingException($"Function '{functionName}', parameter '{parameter.Name}': ref and out parameters cannot be bound.");
        }

        var binding = parameter.GetCustomAttributes().OfType<BindingAttribute>().FirstOrDefault();
        if (binding is not null)
        {
            return providers.Select(p => p.TryCreate(parameter)).FirstOrDefault(b => b is not null)
                ?? throw new FunctionIndexingException($"Function '{functionName}', parameter '{parameter.Name}': the binding [{binding.GetType().Name}] is not supported by the local runtime.");
        }

        var key = bindingDataNames.FirstOrDefault(n => string.Equals(n, parameter.Name, StringComparison.OrdinalIgnoreCase));
        var converter = TypeDescriptor.GetConverter(parameter.ParameterType);
        if (key is null || !converter.CanConvertFrom(typeof(string)))
        {
            var known = bindingDataNames.Count == 0 ? "none" : string.Join(", ", bindingDataNames);
            throw new FunctionIndexingException(
                $"Function '{functionName}', parameter '{parameter.Name}' ({parameter.ParameterType.Name}): cannot bind. A parameter is the trigger, " +
                $"FunctionContext, CancellationToken, a supported binding, or a simple value named after the trigger's binding data (here: {known}).");
        }

        return (context, _) =>
        {
            var value = context.BindingContext.BindingData.GetValueOrDefault(key);
            return ValueTask.FromResult(value switch
            {
                null => parameter.HasDefaultValue ? parameter.DefaultValue : null,
                string text when parameter.ParameterType != typeof(string) => converter.ConvertFromString(null, CultureInfo.InvariantCulture, text),
                _ => value,
            });
        };
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_\\-]{0,127}$")]
    private static partial Regex ValidName();
}
