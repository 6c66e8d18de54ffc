using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Serverless.LocalHost.Hosting;

/// <summary>Settings of the local runtime, section <c>LocalHost</c> (<c>LocalHost__Http__Port</c> in app settings).</summary>
public sealed class LocalHostOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "LocalHost";

    /// <summary>
    /// Names this host's durable state (blob receipts, timer status, locks) in storage. Keep it stable across restarts;
    /// defaults to the app's assembly name (<c>serverless-functions</c>).
    /// </summary>
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,31}$", ErrorMessage = "LocalHost:HostId must be 1-32 lowercase letters, digits or dashes.")]
    public string? HostId { get; set; }

    /// <summary>The HTTP listener.</summary>
    [ValidateObjectMembers]
    public HttpListenerOptions Http { get; set; } = new();

    /// <summary>The keys of Function and Admin level functions.</summary>
    public FunctionKeyOptions Keys { get; set; } = new();

    /// <summary>The blob trigger.</summary>
    [ValidateObjectMembers]
    public BlobTriggerOptions Blobs { get; set; } = new();

    /// <summary>The queue trigger.</summary>
    public QueueTriggerOptions Queues { get; set; } = new();

    /// <summary>Assemblies to search for <c>[Function]</c> methods; the first names the host id by default.</summary>
    public IList<Assembly> FunctionAssemblies { get; } = [];

    /// <summary>When not empty, only these types' functions are served (tests use it to pick a few functions).</summary>
    public IList<Type> FunctionTypes { get; } = [];
}

/// <summary>The HTTP listener.</summary>
public sealed class HttpListenerOptions
{
    /// <summary>The address to listen on; loopback by default, as Core Tools.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 7071;

    /// <summary>The largest request body accepted; larger gets 413. The Functions default is 100 MB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 100L * 1024 * 1024;
}

/// <summary>
/// Keys. A key set here wins; one not set is read from the host's secrets in storage
/// (<c>azure-webjobs-secrets/{hostId}/host.json</c>, as the Functions host keeps them), or generated once and kept
/// there, so it stays the same across restarts and hosts.
/// </summary>
public sealed class FunctionKeyOptions
{
    /// <summary>The master key: opens every level.</summary>
    public string? Master { get; set; }

    /// <summary>The default function key: opens Function and User level functions.</summary>
    public string? Function { get; set; }

    /// <summary>The Durable HTTP API's system key (in status URLs).</summary>
    public string? DurableTaskExtension { get; set; }

    /// <summary>The blob webhook's system key (Event Grid subscriptions use it).</summary>
    public string? BlobsExtension { get; set; }
}

/// <summary>The blob trigger.</summary>
public sealed class BlobTriggerOptions
{
    /// <summary>How often watched containers are listed (Azurite sends no change events): one list call, a few ms on Azurite.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Attempts per blob version before it is sent to the poison queue, as the Functions host does.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Blobs processed at once per function.</summary>
    [Range(1, 64)]
    public int MaxDegreeOfParallelism { get; set; } = 4;
}

/// <summary>The queue trigger, with the Functions host's defaults where it has them (host.json <c>extensions.queues</c>).</summary>
public sealed class QueueTriggerOptions
{
    /// <summary>How long an empty queue waits before it is polled again (the host backs off to a minute; a second suits one machine).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries of a message before it goes to <c>{queue}-poison</c>, counted by the queue itself, so a message whose function kills the process counts too.</summary>
    [Range(1, 100)]
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>How long a taken message stays hidden; renewed at half of it while its function runs, so a crashed host's message comes back this soon.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "01:00:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Messages taken at once per function, and so run at once (host.json <c>batchSize</c>, 16 by default).</summary>
    [Range(1, 32)]
    public int BatchSize { get; set; } = 16;
}
