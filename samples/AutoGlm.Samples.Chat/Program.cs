Console.WriteLine("AutoGlm console chat sample: not implemented yet.");
