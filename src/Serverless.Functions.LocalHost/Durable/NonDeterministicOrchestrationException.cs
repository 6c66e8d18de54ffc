namespace Serverless.Functions.LocalHost.Durable;

/// <summary>The orchestrator's code took a different path on replay than the recorded history: it is not deterministic, or it changed while the instance was running.</summary>
public sealed class NonDeterministicOrchestrationException(string message) : InvalidOperationException(message)
{
}
