import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { SettingsView, UpdateSettings } from './settings.schemas';
import { SettingsService } from './settings.service';

@ApiTag('settings', 'Operator settings kept in the database.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @ApiDoc({ summary: 'The settings', response: SettingsView })
  get() {
    return this.settings.get();
  }

  @Patch()
  @ApiDoc({ summary: 'Change settings', body: UpdateSettings, response: SettingsView, errors: [400] })
  update(@Body(new ZodPipe(UpdateSettings)) body: UpdateSettings) {
    return this.settings.update(body);
  }
}
