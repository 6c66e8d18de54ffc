using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Binds a parameter to an HTTP request.</summary>
public sealed class HttpTriggerAttribute : TriggerBindingAttribute
{
    /// <summary>Any method, <see cref="AuthorizationLevel.Function"/>.</summary>
    public HttpTriggerAttribute()
    {
        AuthLevel = AuthorizationLevel.Function;
    }

    /// <summary>The given methods. As in the SDK source, this constructor leaves <see cref="AuthLevel"/> at its CLR default; pass a level explicitly.</summary>
    public HttpTriggerAttribute(params string[] methods)
    {
        Methods = methods;
    }

    /// <summary>Any method, at the given level.</summary>
    public HttpTriggerAttribute(AuthorizationLevel authLevel)
    {
        AuthLevel = authLevel;
    }

    /// <summary>The given methods, at the given level.</summary>
    public HttpTriggerAttribute(AuthorizationLevel authLevel, params string[] methods)
    {
        AuthLevel = authLevel;
        Methods = methods;
    }

    /// <summary>The route template, relative to the route prefix; the function name when null.</summary>
    public string? Route { get; set; }

    /// <summary>The HTTP methods; any when null or empty.</summary>
    public string[]? Methods { get; private set; }

    /// <summary>The key needed to call the function.</summary>
    public AuthorizationLevel AuthLevel { get; private set; }
}

/// <summary>The authorization level of an HTTP function.</summary>
public enum AuthorizationLevel
{
    /// <summary>No key.</summary>
    Anonymous = 0,

    /// <summary>A user identity (App Service authentication); locally, a function key.</summary>
    User = 1,

    /// <summary>A function key or the master key.</summary>
    Function = 2,

    /// <summary>A system key or the master key; locally, the master key.</summary>
    System = 3,

    /// <summary>The master key.</summary>
    Admin = 4,
}
