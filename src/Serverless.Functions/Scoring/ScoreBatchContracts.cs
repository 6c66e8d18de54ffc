using Serverless.Pipeline.Scoring;

namespace Serverless.Functions.Scoring;

/// <summary>A file to score in parts: the input blob (name in <c>score-in</c>, ETag), the model version, how many parts, and whether prediction rows are written (else the summary only).</summary>
public sealed record ScoreBatchInput(string Name, string ETag, string Model, int Version, int Parts, bool Rows = true);

/// <summary>Where the parts are: the header and the byte ranges.</summary>
public sealed record ScoringPlan(string Header, IReadOnlyList<CsvRange> Ranges);

/// <summary>Input of <c>ScorePart</c>.</summary>
public sealed record ScorePartInput(ScoreBatchInput Batch, string Header, CsvRange Range);

/// <summary>Input of <c>FinishScoring</c>: the counts of every part, or the error that stopped the run.</summary>
public sealed record FinishScoringInput(ScoreBatchInput Batch, string RunId, string Header, int Parts, IReadOnlyList<ScoringCounts> Counts, string? Error);
