using System.Text.Json.Serialization;
using Microsoft.DurableTask;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>
/// One event in an orchestration's history. The history is the truth: replaying it through the orchestrator code
/// rebuilds the state. Payloads are JSON text from the worker's serializer (or a large-payload reference).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$type")]
[JsonDerivedType(typeof(ExecutionStarted), "ExecutionStarted")]
[JsonDerivedType(typeof(OrchestratorStarted), "OrchestratorStarted")]
[JsonDerivedType(typeof(TaskScheduled), "TaskScheduled")]
[JsonDerivedType(typeof(TaskCompleted), "TaskCompleted")]
[JsonDerivedType(typeof(TaskFailed), "TaskFailed")]
[JsonDerivedType(typeof(TimerCreated), "TimerCreated")]
[JsonDerivedType(typeof(TimerFired), "TimerFired")]
[JsonDerivedType(typeof(SubOrchestrationCreated), "SubOrchestrationCreated")]
[JsonDerivedType(typeof(SubOrchestrationCompleted), "SubOrchestrationCompleted")]
[JsonDerivedType(typeof(SubOrchestrationFailed), "SubOrchestrationFailed")]
[JsonDerivedType(typeof(EventRaised), "EventRaised")]
[JsonDerivedType(typeof(EventSent), "EventSent")]
[JsonDerivedType(typeof(ExecutionSuspended), "ExecutionSuspended")]
[JsonDerivedType(typeof(ExecutionResumed), "ExecutionResumed")]
[JsonDerivedType(typeof(ExecutionTerminated), "ExecutionTerminated")]
[JsonDerivedType(typeof(ExecutionCompleted), "ExecutionCompleted")]
[JsonDerivedType(typeof(ContinuedAsNew), "ContinuedAsNew")]
internal abstract record HistoryEvent
{
    /// <summary>When the event was recorded.</summary>
    public DateTime Timestamp { get; init; }

    /// <summary>The control message that brought the event, to drop a message delivered twice.</summary>
    public string? MessageId { get; init; }
}

/// <summary>An event that completes a task the orchestrator scheduled.</summary>
internal interface ITaskCompletion
{
    int TaskId { get; }
}

/// <summary>An action the orchestrator took, numbered in the order the code took it.</summary>
internal interface IOrchestratorAction
{
    int TaskId { get; }

    string Describe();
}

internal sealed record ExecutionStarted(
    string Name,
    string? Input,
    string ExecutionId,
    string? ParentInstanceId = null,
    string? ParentName = null,
    string? ParentExecutionId = null,
    int? ParentTaskId = null) : HistoryEvent
{
    /// <summary>Events carried over from a previous execution by ContinueAsNew.</summary>
    public IReadOnlyList<EventRaised>? CarriedEvents { get; init; }
}

internal sealed record OrchestratorStarted : HistoryEvent;

internal sealed record TaskScheduled(int TaskId, string Name, string? Input) : HistoryEvent, IOrchestratorAction
{
    public string Describe() => $"activity '{Name}'";
}

internal sealed record TaskCompleted(int TaskId, string? Result) : HistoryEvent, ITaskCompletion;

internal sealed record TaskFailed(int TaskId, TaskFailureDetails Failure) : HistoryEvent, ITaskCompletion;

internal sealed record TimerCreated(int TaskId, DateTime FireAt) : HistoryEvent, IOrchestratorAction
{
    public string Describe() => $"timer for {FireAt:o}";
}

internal sealed record TimerFired(int TaskId, DateTime FireAt) : HistoryEvent, ITaskCompletion;

internal sealed record SubOrchestrationCreated(int TaskId, string Name, string InstanceId, string? Input) : HistoryEvent, IOrchestratorAction
{
    public string Describe() => $"sub-orchestration '{Name}' ({InstanceId})";
}

internal sealed record SubOrchestrationCompleted(int TaskId, string? Result) : HistoryEvent, ITaskCompletion;

internal sealed record SubOrchestrationFailed(int TaskId, TaskFailureDetails Failure) : HistoryEvent, ITaskCompletion;

internal sealed record EventRaised(string Name, string? Input) : HistoryEvent;

internal sealed record EventSent(int TaskId, string InstanceId, string Name, string? Input) : HistoryEvent, IOrchestratorAction
{
    public string Describe() => $"event '{Name}' to {InstanceId}";
}

internal sealed record ExecutionSuspended(string? Reason) : HistoryEvent;

internal sealed record ExecutionResumed(string? Reason) : HistoryEvent;

internal sealed record ExecutionTerminated(string? Output) : HistoryEvent;

internal sealed record ExecutionCompleted(OrchestrationStatus Status, string? Output, TaskFailureDetails? Failure) : HistoryEvent;

internal sealed record ContinuedAsNew(string? Input, string NewExecutionId) : HistoryEvent;

/// <summary>The stored status of an instance (the client's <c>OrchestrationRuntimeStatus</c> without its obsolete values).</summary>
internal enum OrchestrationStatus
{
    Pending,
    Running,
    Completed,
    Failed,
    Terminated,
    Suspended,
}
