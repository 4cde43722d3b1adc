// The article before a model provider's name in a sentence goes by the sound the name starts
// with. Every model provider of the catalog is listed here, so a new one must be placed too.
import { MODEL_PROVIDERS, type ModelProvider } from '../../../src/catalog/model-provider-catalog';
import { capitalizedIndefiniteArticle, indefiniteArticle } from '../../../src/catalog/model-provider-article';

const ARTICLES: Record<ModelProvider, 'a' | 'an'> = {
  OPENAI: 'an',
  ANTHROPIC: 'an',
  AZURE_OPENAI: 'an',
  GOOGLE_AI: 'a',
  BEDROCK: 'a',
  VERTEX: 'a',
  GROQ: 'a',
  TOGETHER: 'a',
  MISTRAL: 'a',
  COHERE: 'a',
  XAI: 'an',
  FIREWORKS: 'a',
  PERPLEXITY: 'a',
  OPENROUTER: 'an',
  DEEPSEEK: 'a',
  CUSTOM: 'a',
};

test('every model provider of the catalog has its expected article', () => {
  expect(Object.keys(ARTICLES).sort()).toEqual([...MODEL_PROVIDERS].sort());
});

test.each(MODEL_PROVIDERS.map((modelProvider) => [modelProvider, ARTICLES[modelProvider]]))('%s takes "%s"', (modelProvider, article) => {
  expect(indefiniteArticle(modelProvider)).toBe(article);
  expect(capitalizedIndefiniteArticle(modelProvider)).toBe(article === 'an' ? 'An' : 'A');
});
