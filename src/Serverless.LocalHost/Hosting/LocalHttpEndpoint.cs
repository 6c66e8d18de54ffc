namespace Serverless.LocalHost.Hosting;

/// <summary>Where the local HTTP listener is bound, once it has started (useful with port 0).</summary>
public sealed class LocalHttpEndpoint
{
    /// <summary>The base address, for example <c>http://127.0.0.1:7071</c>; null before start.</summary>
    public Uri? BaseAddress { get; internal set; }
}
