using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>Settings of the local Durable engine, section <c>LocalHost:Durable</c> (<c>LocalHost__Durable__MaxConcurrentActivities</c>).</summary>
public sealed class DurableOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "LocalHost:Durable";

    /// <summary>Activities run at once on this host.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentActivities { get; set; } = 64;

    /// <summary>Orchestration episodes run at once on this host (each instance runs one episode at a time).</summary>
    [Range(1, 1000)]
    public int MaxConcurrentOrchestrations { get; set; } = 32;

    /// <summary>
    /// How long a message stays hidden while this host works on it. A host that dies lets its messages reappear
    /// after this, for another host to take; long activities renew it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MessageVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest pause between two polls of an idle queue (timers fire at most this late).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Payloads longer than this (characters) go to blobs, as the Azure Storage provider does (about 45 KB).</summary>
    [Range(1024, 60 * 1024)]
    public int LargePayloadThreshold { get; set; } = 45 * 1024;

    /// <summary>
    /// Keep running instances' history in memory between episodes (the fast path). Off means every episode replays
    /// from storage; both give the same result.
    /// </summary>
    public bool CacheHistory { get; set; } = true;
}
