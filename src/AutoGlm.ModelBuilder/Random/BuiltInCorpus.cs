namespace AutoGlm.ModelBuilder.Random;

/// <summary>A small multilingual text (written for this project) on which random checkpoints train their tokenizer.</summary>
internal static class BuiltInCorpus
{
    public const string Text = """
        The quick brown fox jumps over the lazy dog. A language model reads a sequence of tokens and predicts the next one.
        Hello, world! How are you today? I am fine, thank you. The weather is nice, and the sun is shining over the hills.
        Small models are useful for tests: they build in seconds, run on any computer, and still exercise every layer.
        The cache stores keys and values for each layer, so that every new token only needs one step of attention.
        When many requests arrive at once, the scheduler puts them together into one batch and decodes them step by step.
        Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 256 1024 2048 65536 3.14159 2.71828 -1 +1 = 2; 7 * 6 = 42.
        你好，世界！今天天气很好，我们一起去公园散步吧。语言模型根据前面的文字预测下一个词。
        机器学习是人工智能的一个分支。这个模型很小，但是可以用来测试每一层的计算是否正确。
        我们的程序把请求放在一起批量处理，这样可以更快地生成回答。谢谢你的帮助！
        Guten Tag! Wie geht es Ihnen? Das Wetter ist heute schön, und wir gehen im Park spazieren.
        Bonjour tout le monde ! Comment ça va ? Le modèle de langue lit une suite de jetons et prédit le suivant.
        ¡Hola! ¿Qué tal? El modelo de lenguaje es pequeño, pero sirve para probar cada capa de la red.
        Привет, мир! Как дела? Языковая модель читает текст и предсказывает следующее слово.
        こんにちは、世界！今日はいい天気ですね。言語モデルは次の単語を予測します。
        안녕하세요! 오늘 날씨가 좋네요. 언어 모델은 다음 단어를 예측합니다.
        def greet(name):
            return f"Hello, {name}!"

        for (int i = 0; i < count; i++)
        {
            total += values[i] * weights[i];
        }

        public static int Add(int a, int b) => a + b;
        {"role": "user", "content": "What is the capital of France?"}
        {"role": "assistant", "content": "The capital of France is Paris."}
        The user asked a question, and the assistant answered it. The system sets the rules of the conversation.
        Please call the tool get_weather with the argument city = "Beijing" and report the temperature in Celsius.
        """;
}
