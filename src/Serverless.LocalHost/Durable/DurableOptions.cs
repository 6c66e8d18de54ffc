using System.ComponentModel.DataAnnotations;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// How the local host runs the Durable Task Framework's Azure Storage provider on one machine against Azurite, section
/// <c>LocalHost:Durable</c> (<c>LocalHost__Durable__PartitionCount</c>). The defaults differ from the provider's, which
/// are made for a storage account in Azure billed per transaction; each says why. The task hub name and the
/// concurrency limits come from host.json (<c>extensions:durableTask</c>), as in Azure.
/// </summary>
public sealed class DurableOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "LocalHost:Durable";

    /// <summary>
    /// The longest pause between polls of an idle queue (the provider's default: 30 s). An orchestration whose next
    /// message lands on a queue that went idle waits up to this long; polling an emulator on loopback costs nothing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a taken control-queue or work-item message stays hidden (the provider's default: 5 min). A host that dies
    /// holding one lets it reappear after this, so it sets how soon a crashed host's work resumes. Work in progress
    /// renews it every 5 s (the framework renews a lock once it is within 30 s of expiring), so 10 s or more is safe.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "00:10:00")]
    public TimeSpan MessageVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Control queues, each owned by one host through a lease (the provider's default: 4). Two lets two local hosts
    /// share orchestrations; more only adds queues to poll on one machine. Fixed when the task hub is created.
    /// </summary>
    [Range(1, 16)]
    public int PartitionCount { get; set; } = 2;

    /// <summary>
    /// How long a partition lease lasts unless renewed (the provider's default: 30 s). A restarted or second host takes
    /// over a dead host's partitions once their leases expire. Renewed every <see cref="LeaseRenewInterval"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:05:00")]
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often leases are renewed, and free or expired ones looked for (the provider's default: 10 s). A third of
    /// <see cref="LeaseInterval"/>, so two renewals can be late before a lease is lost.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// This host's name in partition leases; it must differ between hosts that share a task hub. Defaults to the
    /// machine name and HTTP port (the process id when the port is picked at random): two hosts on one machine never
    /// take each other for themselves, and a host restarted on its port takes its own partitions back at once.
    /// </summary>
    public string? WorkerId { get; set; }
}
