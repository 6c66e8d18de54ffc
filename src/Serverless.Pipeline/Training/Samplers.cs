namespace Serverless.Pipeline.Training;

/// <summary>How configurations are drawn from a search space. Every sampler is seeded and reproducible.</summary>
public static class Samplers
{
    /// <summary>Every combination of <c>choice</c> values (grid sampling takes only choices, as in Azure ML), in a fixed order.</summary>
    public static IEnumerable<TrialConfiguration> Grid(SearchSpace space, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(space);
        var names = space.Parameters.Keys.ToList();
        var choices = names.Select(n => space.Parameters[n] as ParameterExpression.Choice
            ?? throw new ArgumentException($"Grid sampling takes only choice(...) hyperparameters; '{n}' is {space.Parameters[n].GetType().Name}.", nameof(space))).ToList();
        IEnumerable<double[]> combinations = [[]];
        foreach (var choice in choices)
        {
            combinations = combinations.SelectMany(prefix => choice.Values.Select(v => (double[])[.. prefix, v]));
        }

        return combinations.Select(values => new TrialConfiguration(space.Trainer, names.Zip(values).ToDictionary(p => p.First, p => p.Second), seed));
    }

    /// <summary><paramref name="count"/> independent uniform draws, seeded.</summary>
    public static IEnumerable<TrialConfiguration> Random(SearchSpace space, int count, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(space);
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            yield return At(space, [.. space.Parameters.Keys.Select(_ => random.NextDouble())], seed);
        }
    }

    /// <summary><paramref name="count"/> points of a Sobol sequence (skipping the origin): spread evenly in every dimension.</summary>
    public static IEnumerable<TrialConfiguration> Sobol(SearchSpace space, int count, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(space);
        var sequence = new SobolSequence(space.Parameters.Count);
        for (var i = 0; i < count; i++)
        {
            yield return At(space, sequence.Next(), seed);
        }
    }

    private static TrialConfiguration At(SearchSpace space, double[] point, int seed) =>
        new(space.Trainer, space.Parameters.Keys.Zip(point).ToDictionary(p => p.First, p => space.Parameters[p.First].At(p.Second)), seed);
}

/// <summary>
/// A Sobol low-discrepancy sequence (Gray-code construction) for up to 10 dimensions, with the direction numbers of
/// Joe and Kuo. Each block of 2^k points puts exactly one point in each 1/2^k of every dimension.
/// </summary>
internal sealed class SobolSequence
{
    private const int Bits = 31;

    // (degree s, coefficient a, initial m values) for dimensions 2..10; dimension 1 is the van der Corput sequence.
    private static readonly (int S, int A, int[] M)[] Directions =
    [
        (1, 0, [1]), (2, 1, [1, 3]), (3, 1, [1, 3, 1]), (3, 2, [1, 1, 1]), (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]), (5, 2, [1, 1, 5, 5, 17]), (5, 4, [1, 1, 5, 5, 5]), (5, 7, [1, 1, 7, 11, 19]),
    ];

    private readonly uint[][] _v;
    private readonly uint[] _x;
    private uint _index;

    public SobolSequence(int dimensions)
    {
        if (dimensions is < 1 or > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "Sobol sampling here covers 1 to 10 hyperparameters; use random sampling for more.");
        }

        _x = new uint[dimensions];
        _v = new uint[dimensions][];
        _v[0] = [.. Enumerable.Range(1, Bits).Select(i => 1u << (32 - i))];
        for (var d = 1; d < dimensions; d++)
        {
            var (s, a, m) = Directions[d - 1];
            var v = new uint[Bits];
            for (var i = 0; i < s; i++)
            {
                v[i] = (uint)m[i] << (31 - i);
            }

            for (var i = s; i < Bits; i++)
            {
                v[i] = v[i - s] ^ (v[i - s] >> s);
                for (var k = 1; k < s; k++)
                {
                    v[i] ^= (uint)((a >> (s - 1 - k)) & 1) * v[i - k];
                }
            }

            _v[d] = v;
        }
    }

    public double[] Next()
    {
        _index++;
        var c = System.Numerics.BitOperations.TrailingZeroCount(_index);
        var point = new double[_x.Length];
        for (var d = 0; d < _x.Length; d++)
        {
            _x[d] ^= _v[d][c];
            point[d] = _x[d] / 4294967296.0;
        }

        return point;
    }
}
